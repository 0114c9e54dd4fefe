#!/bin/sh
# tests/unit/plugins_def.sh: plugins/plugins.def (the list the plugin
# table is generated from) and the build's source list (plugins/*.am,
# which automake cannot generate from an X-macro list) name the same
# plugins: every PVM_PLUGIN(NAME) has plugins/NAME.c in a fragment, and
# every plugins/*.c in a fragment that defines a pvm_plugin_type is in
# plugins.def.
set -eu
top=${srcdir:-.}
[ -f "$top/plugins/plugins.def" ] || top=$(dirname "$0")/../..
def="$top/plugins/plugins.def"
listed=$(sed -n 's/^PVM_PLUGIN(\([A-Za-z0-9_]*\)).*/\1/p' "$def" | sort)
built=$(cat "$top"/plugins/*.am | tr ' \t\\' '\n\n\n' |
        sed -n 's|^plugins/\([A-Za-z0-9_]*\)\.c$|\1|p' | sort -u)
status=0
for name in $listed; do
    if ! printf '%s\n' "$built" | grep -qx "$name"; then
        echo "plugins.def lists $name but plugins/*.am do not build" \
             "plugins/$name.c: add it to plugins/local.am"
        status=1
    fi
done
for name in $built; do
    grep -q "^const pvm_plugin_type pvm_plugin_$name\b" \
        "$top/plugins/$name.c" 2>/dev/null || continue
    if ! printf '%s\n' "$listed" | grep -qx "$name"; then
        echo "plugins/$name.c defines pvm_plugin_$name but plugins.def" \
             "does not list it: add PVM_PLUGIN($name)"
        status=1
    fi
done
[ $status -eq 0 ] && echo "plugins.def and plugins/*.am agree:" $listed
exit $status
