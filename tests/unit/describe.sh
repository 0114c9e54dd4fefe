#!/bin/sh
# tests/unit/describe.sh: pvm-fcgi --describe TYPE and --list-plugins
# --verbose print the plugin key tables (the text itself is compared with
# docs/plugins/*.md by tests/unit/test_settings); an unknown type exits 1.
set -eu
bin=./pvm-fcgi
[ -x "$bin" ] || { echo "no $bin: build it first"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
"$bin" --list-plugins --verbose >"$tmp/all"
for type in $("$bin" --list-plugins | cut -d' ' -f1); do
    "$bin" --describe "$type" >"$tmp/one"
    head -1 "$tmp/one" | grep -q "^$type: " ||
        { echo "--describe $type: no header line"; status=1; }
    # each type's description is a block of --list-plugins --verbose
    case "$(cat "$tmp/all")" in
    *"$(cat "$tmp/one")"*) ;;
    *) echo "--list-plugins --verbose lacks --describe $type"; status=1 ;;
    esac
done
grep -q '^  path = path (required)$' "$tmp/all" ||
    { echo "openmetrics_file's path key is not listed"; status=1; }
if "$bin" --describe no_such_type >"$tmp/out" 2>"$tmp/err"; then
    echo "--describe no_such_type succeeded"
    status=1
fi
grep -q "unknown plugin type 'no_such_type'" "$tmp/err" ||
    { echo "--describe no_such_type: no message"; status=1; }
[ $status -eq 0 ] && echo "--describe and --list-plugins --verbose agree"
exit $status
