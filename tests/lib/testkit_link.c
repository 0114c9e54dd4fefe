/* testkit_link.c: a plugin author's test, built by tests/deb-check.sh
 * against the pvm-dev package alone (its headers, libpvmtestkit.a and
 * pvm-testkit.pc): the example plugin answers a query through the kit. */
#include <stdio.h>
#include <string.h>

#include <pvm/plugin.h>
#include <pvm/testkit.h>

extern const pvm_plugin_type pvm_plugin_example;

int main(void)
{
    const pvm_plugin_type *const table[] = {&pvm_plugin_example, NULL};
    char err[256] = "";
    pvm_testkit *kit = pvm_testkit_new("[plugin:example]\n", table, err,
                                       sizeof(err));
    if (!kit) {
        fprintf(stderr, "testkit: %s\n", err);
        return 1;
    }
    pvm_test_response *r = pvm_testkit_instant(
        kit, "count(prometheus_virtual_metrics_example_metric)", 1000);
    int ok = r && r->status == 200 && strstr(r->body, "\"success\"");
    printf("%d %s\n", r ? r->status : 0, r ? r->body : "");
    pvm_test_response_free(r);
    pvm_testkit_free(kit);
    return ok ? 0 : 1;
}
