/* pvm/pvm.h: everything a plugin includes. */
#ifndef PVM_PVM_H
#define PVM_PVM_H

#include <pvm/arena.h>
#include <pvm/error.h>
#include <pvm/labels.h>
#include <pvm/plugin.h>
#include <pvm/query.h>
#include <pvm/request.h>
#include <pvm/response.h>

#define PVM_VERSION_STRING "0.1.0"

#endif
