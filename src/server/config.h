/* config.h: pvm.ini, loaded with inih. [server] keys are parsed into
 * pvm_server_config; [plugin:NAME] sections are kept as ordered key/value
 * lists (with line numbers) for the plugin instances to consume. */
#ifndef PVM_CONFIG_H
#define PVM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pvm/error.h>
#include <pvm/plugin.h>

#include "config_server.h"

/* Longest line of pvm.ini, in bytes (comments and indentation included
 * up to this; the limit applies to the line without them). */
#define PVM_CONFIG_MAX_LINE 16384

/* Largest pvm.ini, in bytes: a configuration is a few kilobytes; a bigger
 * file (or /dev/zero) is refused at once instead of read to the end. */
#define PVM_CONFIG_MAX_BYTES (1024 * 1024)

typedef struct pvm_config_entry {
    char *key;   /* key as written */
    char *value; /* value, inline comments and surrounding space removed */
    int line;    /* line number in the file */
} pvm_config_entry;

typedef struct pvm_config_section {
    char *name;                /* "server", "plugin:NAME" */
    int line;                  /* line of the [section] header */
    pvm_config_entry *entries; /* in file order */
    size_t nentries;           /* number of entries */
} pvm_config_section;


typedef struct pvm_config {
    char *path;                   /* file name used in messages */
    pvm_server_config server;     /* parsed [server] */
    pvm_config_section *sections; /* all sections, file order */
    size_t nsections;             /* number of sections */
} pvm_config;

/* Loads a file. NULL on error, with err->msg like
 *   "pvm.ini:12: [server] max_body_bytes: not a size: 'x'".
 * Only a regular file of at most PVM_CONFIG_MAX_BYTES is read: a
 * directory, FIFO, socket or device is refused without blocking. Used
 * for the start, --check-config and the SIGHUP reload alike. */
pvm_config *pvm_config_load(const char *path, pvm_error *err);

/* Same from a string; name is used in messages. */
pvm_config *pvm_config_load_string(const char *text, const char *name,
                                   pvm_error *err);

void pvm_config_free(pvm_config *c);

/* The last value of key in section, or NULL. */
const char *pvm_config_get(const pvm_config *c, const char *section,
                           const char *key);

/* The section named name ("server", "plugin:NAME"), or NULL. Valid as
 * long as c. */
const pvm_config_section *pvm_config_section_find(const pvm_config *c,
                                                  const char *name);

/* The default config path (SYSCONFDIR/pvm/pvm.ini). */
const char *pvm_config_default_path(void);


#endif
