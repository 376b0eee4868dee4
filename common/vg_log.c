/* SPDX-License-Identifier: BSD-3-Clause */
#include "vg_log.h"

RTE_LOG_REGISTER(vg_logtype_main, vigil.main, INFO);
RTE_LOG_REGISTER(vg_logtype_dp, vigil.dp, INFO);
RTE_LOG_REGISTER(vg_logtype_ctl, vigil.ctl, INFO);
RTE_LOG_REGISTER(vg_logtype_rl, vigil.rl, INFO);
RTE_LOG_REGISTER(vg_logtype_det, vigil.det, INFO);
RTE_LOG_REGISTER(vg_logtype_mg, vigil.mg, INFO);

void
vg_log_set_level(unsigned level)
{
	rte_log_set_level_pattern("vigil.*", level);
}
