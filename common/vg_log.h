/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One registered DPDK log type per subsystem ("vigil.dp", "vigil.ctl", ...), so that operators
 * can raise the level of one part with --log-level=vigil.dp:debug. Fast-path messages use the
 * _DP variants, which compile out below RTE_LOG_DP_LEVEL.
 */
#ifndef VG_LOG_H
#define VG_LOG_H

#include <rte_log.h>

extern int vg_logtype_main;
extern int vg_logtype_dp;
extern int vg_logtype_ctl;
extern int vg_logtype_rl;
extern int vg_logtype_det;
extern int vg_logtype_mg;

/*
 * A log line is one line: whatever the fields hold (a blocklist reason, a token name, a rule's
 * text, a peer's address), the formatted message is escaped with vg_text_escape() (CR, LF and
 * terminal controls become \r, \n, \xHH) before it reaches the log stream, so that nobody who
 * can put text into a field can forge a line or colour the operator's terminal.
 */
#define VG_LOG(type, level, prefix, fmt, ...) \
	vg_log(RTE_LOG_##level, vg_logtype_##type, prefix, fmt, ##__VA_ARGS__)

#define MAIN_LOG(level, fmt, ...) VG_LOG(main, level, "vigild", fmt, ##__VA_ARGS__)
#define DP_LOG(level, fmt, ...)	  VG_LOG(dp, level, "dataplane", fmt, ##__VA_ARGS__)
#define CTL_LOG(level, fmt, ...)  VG_LOG(ctl, level, "control", fmt, ##__VA_ARGS__)
#define RL_LOG(level, fmt, ...)	  VG_LOG(rl, level, "policy", fmt, ##__VA_ARGS__)
#define DET_LOG(level, fmt, ...)  VG_LOG(det, level, "signatures", fmt, ##__VA_ARGS__)
#define MG_LOG(level, fmt, ...)	  VG_LOG(mg, level, "mgmt", fmt, ##__VA_ARGS__)

#define DP_LOG_DP(level, fmt, ...) \
	RTE_LOG_DP(level, VIGIL_DP, "dataplane: " fmt "\n", ##__VA_ARGS__)
#define RTE_LOGTYPE_VIGIL_DP vg_logtype_dp

/* One escaped line "prefix: message" at level (RTE_LOG_*) for logtype; see VG_LOG. */
void vg_log(uint32_t level, int logtype, const char *prefix, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));

/* Set every vigil.* log type to level (an RTE_LOG_* value). */
void vg_log_set_level(unsigned level);

#endif /* VG_LOG_H */
