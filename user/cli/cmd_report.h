/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `boundtrace report FILE`: a recording through the same exporters as a live trace. */
#ifndef BT_CMD_REPORT_H
#define BT_CMD_REPORT_H

#include "cli/opts.h"
#include "model/model.h"

/* Prints o->file as o asks. Returns the process exit status. */
int bt_cmd_report(const struct bt_opts *o);

#endif
