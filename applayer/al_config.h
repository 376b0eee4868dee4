/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "applayer:" section of vigil.yaml, parsed by applayer/ itself (a vg_config_section):
 *
 *   applayer:
 *     enabled: true           # detect protocols and parse HTTP, DNS, TLS, SSH, SMTP, FTP
 *     memcap: 64M             # parser memory per worker (a fixed arena)
 *     max_flows: 64k          # flows with parser state at once, per worker
 *     detect_bytes: 1k        # bytes per direction looked at to detect the protocol
 *     line_max: 4k            # SSH, SMTP, FTP line kept
 *     http:
 *       header_max: 16k       # request or response line and headers kept
 *       request_body: 64k     # body bytes kept for inspection
 *       response_body: 64k
 *       inflate_max: 1M       # decompressed bytes per body; beyond: cut (counted)
 *       inflate_ratio: 2048   # decompressed / compressed beyond: a bomb, cut (counted)
 *       max_transactions: 32  # pipelined requests pending per flow
 *     dns: { max_transactions: 32, max_names: 32 }
 *     tls: { max_record: 64k } # one handshake message kept
 *
 * Parsing happens for the flows that are inspected (the policy's inspect, or
 * inspection.flows: all), and for every DNS flow over UDP (the anomaly detectors read its
 * names).
 */
#ifndef AL_CONFIG_H
#define AL_CONFIG_H

#include <stdbool.h>

#include <yaml.h>

#include "al.h"
#include "vg_yaml.h"

struct al_config {
	bool enabled;
	struct al_limits lim;
};

/* Defaults: enabled, al_limits_default(). */
void al_config_init(struct al_config *c);

/* The section parser for vg_config_load_sections(): obj is a struct al_config. 0 or -EINVAL. */
int al_config_parse(struct vg_yaml *y, yaml_node_t *n, void *obj);

#endif /* AL_CONFIG_H */
