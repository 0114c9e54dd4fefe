/* labels.c: sorted label sets (see labels.h). */

#include <stdlib.h>
#include <string.h>

#include "form.h" /* pvm_is_valid_utf8 */
#include "labels.h"

static void insertion_sort(pvm_label *l, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        pvm_label x = l[i];
        size_t j = i;
        while (j > 0 && strcmp(l[j - 1].name, x.name) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
}

static int cmp_label_name(const void *a, const void *b)
{
    return strcmp(((const pvm_label *)a)->name, ((const pvm_label *)b)->name);
}

int pvm_labels_normalize(const char *name, const pvm_label *labels, size_t n,
                         pvm_label *out, size_t *nout, pvm_error *err)
{
    size_t k = 0;
    if (n > PVM_MAX_LABELS)
        return pvm_error_set(err, PVM_ERR_BAD_DATA,
                             "too many labels (%zu, at most %d)", n,
                             PVM_MAX_LABELS);
    if (name && *name)
        out[k++] = (pvm_label){PVM_METRIC_NAME_LABEL, name};
    for (size_t i = 0; i < n; i++) {
        if (!labels[i].name || !*labels[i].name)
            return pvm_error_set(err, PVM_ERR_BAD_DATA, "empty label name");
        if (strcmp(labels[i].name, PVM_METRIC_NAME_LABEL) == 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "label __name__ given as a label; pass "
                                 "the metric name instead");
        if (!labels[i].value || !*labels[i].value)
            continue; /* an empty value is the same as no label */
        out[k++] = labels[i];
    }
    if (k < 16)
        insertion_sort(out, k);
    else
        qsort(out, k, sizeof(*out), cmp_label_name);
    for (size_t i = 1; i < k; i++)
        if (strcmp(out[i - 1].name, out[i].name) == 0)
            return pvm_error_set(err, PVM_ERR_BAD_DATA,
                                 "duplicate label name \"%s\"", out[i].name);
    *nout = k;
    return 0;
}

/* FNV-1a of s, then a 0xff separator. */
static uint64_t hash_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull;
}

uint64_t pvm_labels_hash_add(uint64_t h, const pvm_label *l)
{
    return hash_str(hash_str(h, l->name), l->value);
}

uint64_t pvm_labels_hash(const pvm_label *labels, size_t n)
{
    uint64_t h = PVM_LABELS_HASH_INIT;
    for (size_t i = 0; i < n; i++)
        h = pvm_labels_hash_add(h, &labels[i]);
    return h;
}

int pvm_labels_compare(const pvm_label *a, size_t na, const pvm_label *b,
                       size_t nb)
{
    size_t n = na < nb ? na : nb;
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a[i].name, b[i].name);
        if (c)
            return c < 0 ? -1 : 1;
        c = strcmp(a[i].value, b[i].value);
        if (c)
            return c < 0 ? -1 : 1;
    }
    return na < nb ? -1 : na > nb ? 1 : 0;
}

bool pvm_labels_equal(const pvm_label *a, size_t na, const pvm_label *b,
                      size_t nb)
{
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) || strcmp(a[i].value, b[i].value))
            return false;
    return true;
}

pvm_label *pvm_labels_copy(pvm_arena *a, const pvm_label *labels, size_t n)
{
    pvm_label *out = pvm_arena_alloc(a, (n ? n : 1) * sizeof(*out));
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[i].name = pvm_arena_strdup(a, labels[i].name);
        out[i].value = pvm_arena_strdup(a, labels[i].value);
        if (!out[i].name || !out[i].value)
            return NULL;
    }
    return out;
}

const char *pvm_labels_get(const pvm_label *labels, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(labels[i].name, name);
        if (c == 0)
            return labels[i].value;
        if (c > 0)
            break;
    }
    return NULL;
}

const char *pvm_labels_get_unsorted(const pvm_label *labels, size_t n,
                                    const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (labels[i].name && strcmp(labels[i].name, name) == 0)
            return labels[i].value;
    return NULL;
}

bool pvm_label_name_is_valid(const char *name, size_t len)
{
    return len > 0 && pvm_is_valid_utf8(name, len);
}

bool pvm_label_name_is_legacy(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}
