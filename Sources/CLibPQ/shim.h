#ifndef BOTOPS_CLIBPQ_SHIM_H
#define BOTOPS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
