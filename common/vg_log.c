/* SPDX-License-Identifier: BSD-3-Clause */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "vg_log.h"
#include "vg_text.h"

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

void
vg_log(uint32_t level, int logtype, const char *prefix, const char *fmt, ...)
{
	char raw[1024], esc[2048], *msg = raw;
	va_list ap;
	int n;

	if (!rte_log_can_log(logtype, level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(raw)) {
		msg = malloc((size_t)n + 1);
		if (msg == NULL) {
			msg = raw; /* the first part, escaped like the rest */
		} else {
			va_start(ap, fmt);
			vsnprintf(msg, (size_t)n + 1, fmt, ap);
			va_end(ap);
		}
	}
	if (msg == raw || (size_t)n * 4 + 1 <= sizeof(esc)) {
		vg_text_escape(esc, sizeof(esc), msg);
		rte_log(level, logtype, "%s: %s\n", prefix, esc);
	} else {
		char *big = malloc((size_t)n * 4 + 1);

		if (big != NULL)
			vg_text_escape(big, (size_t)n * 4 + 1, msg);
		else
			vg_text_escape(esc, sizeof(esc), msg);
		rte_log(level, logtype, "%s: %s\n", prefix, big != NULL ? big : esc);
		free(big);
	}
	if (msg != raw)
		free(msg);
}
