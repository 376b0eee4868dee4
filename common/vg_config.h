/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance configuration (conf/vigil.yaml) as typed, validated structs.
 *
 * vg_config_load() reads the whole file before EAL starts; nothing else in Vigil sees YAML.
 * Every value has a default so that a minimal file (ports and pairs) is enough.
 */
#ifndef VG_CONFIG_H
#define VG_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <yaml.h>

#include "vg_diag.h"

struct vg_yaml;

#define VG_MAX_PORTS	32
#define VG_MAX_PAIRS	(VG_MAX_PORTS / 2)
#define VG_MAX_WORKERS	64
#define VG_MAX_EAL_ARGS 64
#define VG_NAME_LEN	32
#define VG_DEVICE_LEN	256
#define VG_PATH_LEN	256

enum vg_hugepages {
	VG_HUGE_AUTO, /* use hugepages when the machine has enough free, else --no-huge */
	VG_HUGE_ON,   /* require them */
	VG_HUGE_OFF,  /* always --no-huge */
};

enum vg_clock {
	VG_CLOCK_TSC,	 /* live: the TSC */
	VG_CLOCK_PACKET, /* replay: the packets' RX timestamps (net_pcap) */
};

/* Flow timeouts in milliseconds. */
struct vg_flow_timeouts {
	uint64_t tcp_syn;
	uint64_t tcp_established;
	uint64_t tcp_closing;
	uint64_t tcp_time_wait;
	uint64_t tcp_closed;
	uint64_t udp;
	uint64_t icmp;
	uint64_t other;
};

enum vg_log_level {
	VG_LOG_EMERG,
	VG_LOG_ALERT,
	VG_LOG_CRIT,
	VG_LOG_ERR,
	VG_LOG_WARNING,
	VG_LOG_NOTICE,
	VG_LOG_INFO,
	VG_LOG_DEBUG,
};

struct vg_port_config {
	char name[VG_NAME_LEN];
	char device[VG_DEVICE_LEN]; /* PCI address (0000:03:00.0) or vdev string (net_tap0,...) */
	bool is_pci;
	uint16_t rx_desc;
	uint16_t tx_desc;
	bool promiscuous;
	uint16_t mtu; /* 0: leave the device default */
};

struct vg_pair_config {
	uint16_t a; /* indexes into vg_config.ports */
	uint16_t b;
};

/*
 * Exception policies (docs/OPERATIONS.md "Exception policies"): what the dataplane does with a
 * packet when a condition keeps it from handling the packet as configured, as Suricata names
 * them. The names are those of the config and the counters.
 */
enum vg_exc_cond {
	VG_EXC_FLOW_TABLE_FULL,	 /* no flow entry for a new flow (flows.max, nothing evictable) */
	VG_EXC_MIDSTREAM,	 /* a TCP connection picked up without its handshake */
	VG_EXC_STREAM_MEMCAP,	 /* no inspection state for a flow (inspection.max_flows) */
	VG_EXC_APP_LAYER_MEMCAP, /* no application-layer parser state (applayer memory) */
	VG_EXC_STREAM_DEPTH,	 /* an inspected stream past signatures.stream_depth */
	VG_EXC_PACKET_BUDGET,	 /* a packet's inspection over inspection.packet_budget_ns */
	VG_EXC_EVENT_RING_FULL,	 /* an alert that control's event ring cannot take now */
	VG_EXC_SIGS_LOADING,	 /* an inspected flow before the signatures are in force */
	VG_EXC__COUNT
};

enum vg_exc_action {
	VG_EXC_PASS,	    /* handle the packet as well as can be (the historical behaviour) */
	VG_EXC_BYPASS,	    /* forward, and the rest of the flow without inspection */
	VG_EXC_DROP_PACKET, /* drop the packet (each packet that meets the condition) */
	VG_EXC_DROP_FLOW,   /* drop the packet and the rest of its flow */
	VG_EXC_REJECT,	    /* drop-flow, and answer with a TCP reset or ICMP unreachable */
	VG_EXC_ACT__COUNT
};

extern const char *const vg_exc_cond_names[VG_EXC__COUNT + 1];
extern const char *const vg_exc_action_names[VG_EXC_ACT__COUNT + 1];

struct vg_config {
	char *file;

	/* eal */
	char *eal_args[VG_MAX_EAL_ARGS];
	unsigned n_eal_args;
	char file_prefix[VG_NAME_LEN];
	enum vg_hugepages hugepages;
	uint32_t no_huge_mem_mb; /* -m with --no-huge */

	/* lcores */
	uint32_t control_lcore;
	uint32_t workers[VG_MAX_WORKERS];
	unsigned n_workers;
	/* lcores.cpus: the CPUs the lcores run on (EAL --lcores lcore@cpu), the control lcore on
	 * the first and worker i on entry (i + 1) % n; 0 entries: each lcore on its own CPU */
	uint32_t lcore_cpus[VG_MAX_WORKERS + 1];
	unsigned n_lcore_cpus;

	/* ports and pairs */
	struct vg_port_config ports[VG_MAX_PORTS];
	unsigned n_ports;
	struct vg_pair_config pairs[VG_MAX_PAIRS];
	unsigned n_pairs;

	/* mempool */
	uint32_t mbufs; /* 0: sized from ports, queues and workers */
	uint32_t mbuf_cache;
	uint32_t mbuf_data_room;

	/* dataplane */
	uint32_t burst;
	uint32_t tx_drain_us;
	uint32_t idle_sleep_us; /* 0: busy poll */
	enum vg_clock clock;
	uint32_t clock_unit_ns; /* nanoseconds per RX timestamp unit (packet clock) */

	/* parse: reasons (dp_parse_err names) whose packets are forwarded instead of dropped */
	char *parse_forward[32];
	unsigned n_parse_forward;
	bool parse_ipv4_checksum;
	bool parse_l4_checksum; /* TCP, UDP, ICMP checksums (default off) */

	/* flows (per worker) */
	uint32_t flows_max;
	bool flows_overflow_open; /* flows.overflow (an alias of exceptions.flow_table_full) */
	bool flows_evict;
	bool flows_midstream;
	bool flows_tcp_strict;
	uint32_t flows_aging_batch;
	uint64_t flows_update_ms; /* 0: no periodic update events */
	struct vg_flow_timeouts timeouts;

	/* exceptions: the action per condition (enum vg_exc_action), resolved at load; the raw
	 * settings (-1: not set) while loading */
	uint8_t exceptions[VG_EXC__COUNT];
	int8_t exc_set[VG_EXC__COUNT];
	int8_t exc_default;
	bool overflow_set;

	/* fragments (per worker) */
	uint32_t frag_max;
	uint64_t frag_timeout_ms;
	bool frag_orphan_forward;

	/* rings */
	uint32_t event_ring_size;
	uint32_t command_ring_size;

	/* policy */
	char *policy_file;	   /* NULL: no policy, everything forwarded */
	uint32_t reject_rate;	   /* RST / ICMP answers per second per worker */
	uint32_t rate_sources;	   /* per-source rate-limit buckets per worker */
	bool dry_run;		   /* mode: dry-run (start-up value; the API can change it) */
	uint32_t policy_max_size;  /* bytes of a policy text (file or API); more is refused */
	uint32_t policy_max_depth; /* YAML nesting of a policy text; deeper is refused */
	bool bpf_jit;		   /* rte_bpf programs JIT-compiled (false: the interpreter) */

	/* signature inspection */
	bool inspect_all;	    /* every flow, or (false) those whose policy rule asks */
	uint32_t inspect_max_flows; /* inspected flows with stream state, per worker */
	uint32_t inspect_budget_ns; /* a packet's inspection time over which packet_budget
				     * applies (0: not measured) */

	/* log and stats */
	enum vg_log_level log_level;
	uint64_t stats_interval_ms; /* 0: no periodic stats line */
	bool stats_stages;	    /* bench mode: cycles per pipeline stage (dp_stats.h) */
};

/* Defaults for every field; ports and pairs empty. */
void vg_config_defaults(struct vg_config *cfg);

/*
 * parse.forward names reasons of the packet parser, which the dataplane owns
 * (dp_parse_reason_known() in dataplane/dp_parse.h, a layer above common). A program that
 * loads configs hands the loader that check first (vigild does, before its first load); each
 * name it refuses is then an error at the name's line and column, like any other bad value.
 * Without a check (common's own tests, the config fuzzer) names are kept unchecked. Not
 * thread-safe: set it before loading, from the thread that loads.
 */
void vg_config_set_reason_check(bool (*known)(const char *name));

/*
 * Load and validate path into cfg (which is reset to defaults first). Every problem is added to
 * diag with its position. Returns 0, or -EINVAL when diag holds errors (cfg is then freed and
 * unusable), or another -errno.
 */
int vg_config_load(struct vg_config *cfg, const char *path, struct vg_diag *diag);

/* The same from memory; name is used in messages. */
int vg_config_load_buf(struct vg_config *cfg, const char *name, const char *buf, size_t len,
		struct vg_diag *diag);

/*
 * A top-level section of vigil.yaml owned by another subsystem (the store, the detectors, the
 * management API): the loader hands it the section's node and the subsystem fills its own
 * struct (obj) with vg_yaml's field tables, reporting errors with positions like every other
 * section. Sections not in the file keep whatever defaults obj holds.
 */
struct vg_config_section {
	const char *name;
	int (*parse)(struct vg_yaml *y, yaml_node_t *n, void *obj);
	void *obj;
};

/* vg_config_load() with extra sections (n may be 0). */
int vg_config_load_sections(struct vg_config *cfg, const char *path,
		const struct vg_config_section *sections, unsigned n, struct vg_diag *diag);
int vg_config_load_buf_sections(struct vg_config *cfg, const char *name, const char *buf,
		size_t len, const struct vg_config_section *sections, unsigned n,
		struct vg_diag *diag);

/* Free what load allocated. Safe on a defaulted or freed config. */
void vg_config_free(struct vg_config *cfg);

/* Port index by name, or -1. */
int vg_config_port_index(const struct vg_config *cfg, const char *name);

/* Index of the peer of port i in its pair, or -1 if the port is unpaired. */
int vg_config_peer(const struct vg_config *cfg, unsigned port);

/* The log level's name ("info"). */
const char *vg_log_level_name(enum vg_log_level l);

#endif /* VG_CONFIG_H */
