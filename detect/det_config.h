/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "signatures:" section of vigil.yaml, parsed by detect/ itself (vg_config_section):
 *
 *   signatures:
 *     paths: [conf/signatures]            # rule files and directories (*.rules)
 *     classification: conf/signatures/classification.config
 *     threshold_file: conf/signatures/threshold.config  # det_thconf.h; reloaded with the set
 *     app_proto_ports: true               # "alert http" by port until detected
 *     partial_load: false                 # refuse sets whose rejects change the rest
 *     delayed: false                      # forward while the files build (exceptions.
 *                                         # signatures_loading decides those packets)
 *     stream_depth: 1M                    # bytes per TCP direction (0: no limit)
 *     stream_window: 2k                   # bytes kept for confirmation
 *     port_groups: 32                     # server ports with their own database
 *     threshold_entries: 64k              # per worker
 *     pcre_scan_all: false                # pcres without a literal in Hyperscan too
 *     pcre_match_limit: 3500              # PCRE2 match() calls per pcre per input
 *     pcre_recursion_limit: 1500          # PCRE2 backtracking depth per pcre per input
 *     max_size: 64M                       # bytes of the whole set (files or API text)
 *     vars:
 *       address:
 *         HOME_NET: "[10.0.0.0/8,192.168.0.0/16]"
 *         EXTERNAL_NET: "!$HOME_NET"
 *       port:
 *         HTTP_PORTS: "[80,8080]"
 *
 * Variables not given get the values public rule sets expect (det_vars_set_defaults). Every
 * variable is checked where it is written: a bad value is an error at its line and column.
 */
#ifndef DET_CONFIG_H
#define DET_CONFIG_H

#include <stdbool.h>

#include <yaml.h>

#include "det_engine.h"
#include "vg_yaml.h"

#define DET_CONFIG_MAX_PATHS 64
/* The whole ET Open set (about 15 MB in 2026) with room to grow. */
#define DET_CONFIG_MAX_SIZE (64u << 20)

struct det_config {
	char *paths[DET_CONFIG_MAX_PATHS];
	unsigned n_paths;
	char *classification; /* NULL: none */
	char *threshold_file; /* threshold.config (det_thconf.h); NULL: none */
	bool app_proto_ports;
	/* put a rule file set in force even when rejected rules change what the loaded ones
	 * mean (a rejected pass rule in front of a drop, a flowbit only rejected rules set) */
	bool partial_load;
	/* start forwarding before the set is built; it is put in force when it is (Suricata's
	 * delayed-detect). Until then, inspected flows meet the signatures_loading exception. */
	bool delayed;
	uint32_t max_size; /* bytes of the set's text (every file, or the API's text) */
	struct det_compile_opts compile;
	struct det_vars *vars;
};

/* Defaults: no paths, app_proto_ports on, det_compile_opts_default(), empty vars. 0 or -ENOMEM. */
int det_config_init(struct det_config *c);

/*
 * The section parser for vg_config_load_sections(): obj is a struct det_config initialised
 * with det_config_init(). Returns 0 or -EINVAL after reporting every problem with its position.
 */
int det_config_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

/* Free what init and parse allocated; the config is unusable afterwards. NULL is a no-op. */
void det_config_free(struct det_config *c);

/* Load options for det_load() that point into c (valid while c lives). */
void det_config_load_opts(const struct det_config *c, struct det_load_opts *o);

#endif /* DET_CONFIG_H */
