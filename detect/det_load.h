/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading signature files into a rule set, with a report of what loaded and why the rest did not.
 *
 * One bad rule never stops a load: it is counted under its reason (det_reason_name()), kept
 * with file:line:column, sid and keyword (the first DET_LOAD_REPORT_MAX_REJECTS of them), and the
 * others load. Files that cannot be read are errors in the vg_diag and in the report.
 *
 * A det_set is immutable once loaded and reference counted: det_compile() takes a reference,
 * so the set may be freed by its loader while engines built from it live on.
 */
#ifndef DET_LOAD_H
#define DET_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "det_rule.h"
#include "vg_diag.h"

#define DET_LOAD_REPORT_MAX_REJECTS 1000

struct det_load_opts {
	const struct det_vars *vars; /* NULL: no variables (rules naming one are rejected) */
	/* classification.config to check classtypes against and take priorities from; NULL:
	 * any classtype name is accepted and the default priority is 3 */
	const char *classification;
	/* rules for an application protocol (http, dns, smb, ...) also match its well-known
	 * ports: while detection has not decided for protocols with a parser, always for those
	 * without (which are refused when this is off) */
	bool app_proto_ports;
};

/* vars NULL, no classification, app_proto_ports on. */
void det_load_opts_default(struct det_load_opts *o);

struct det_reject {
	char *file;
	unsigned line;
	unsigned col; /* 1-based */
	uint32_t sid; /* 0 when not known */
	enum det_reason reason;
	char *keyword; /* "" when the problem is not one keyword's */
	char *msg;
};

/* A loaded drop or reject rule whose meaning changed because another rule was rejected. */
struct det_lost_dep {
	char *file; /* the loaded rule */
	unsigned line;
	uint32_t sid;
	uint8_t action;	 /* enum det_action */
	char *lost_file; /* the rejected rule it depended on */
	unsigned lost_line;
	uint32_t lost_sid;
	char *msg; /* how it depended on it */
};

struct det_kwcount {
	char *keyword;
	unsigned count;
};

struct det_load_report {
	unsigned files;	      /* files read */
	unsigned file_errors; /* paths that could not be read */
	unsigned rules;	      /* rules read (commented-out ones not included) */
	unsigned loaded;
	unsigned rejected;
	unsigned commented; /* lines holding a commented-out rule */
	/* loaded rules whose application protocol Vigil has no parser for: matched by port */
	unsigned approximated;
	unsigned tx; /* loaded rules on application-layer transactions (det_scan_tx) */
	unsigned by_reason[DET_R__COUNT];
	/* unsupported and unknown keywords, most frequent first */
	struct det_kwcount *keywords;
	unsigned n_keywords;
	/* the first DET_LOAD_REPORT_MAX_REJECTS rejected rules, in load order */
	struct det_reject *rejects;
	unsigned n_rejects;
	unsigned rejects_dropped;
	/*
	 * Loading what parses changes what the set means (det_partial.h): loaded drop and reject
	 * rules that lost a rejected pass rule in front of them, or whose flowbit only rejected
	 * rules change. A set with meaning_changed > 0 should not be put in force unless the
	 * operator accepted partial loads.
	 */
	unsigned rejected_pass;	   /* pass rules among the rejected */
	unsigned meaning_changed;  /* (loaded rule, rejected rule) dependencies found */
	struct det_lost_dep *lost; /* the first DET_LOAD_REPORT_MAX_REJECTS of them */
	unsigned n_lost;
	unsigned lost_dropped;
};

/* Zero the report; det_load_report_free() releases it (and leaves it zeroed). */
void det_load_report_init(struct det_load_report *r);
void det_load_report_free(struct det_load_report *r);

/*
 * Print the summary: counts, reasons, keywords; with verbose, one line per kept reject as
 * "file:line:col: error: sid N: message".
 */
void det_load_report_print(const struct det_load_report *r, FILE *out, bool verbose);

/* The report as a JSON object (new reference), or NULL on ENOMEM. */
json_t *det_load_report_json(const struct det_load_report *r);

struct det_set;

/*
 * Load rule files and directories (every *.rules file in it, by name; not recursive). The
 * report (may be NULL) is reset first. Returns the set (possibly empty: check the report), or
 * NULL with errno set on ENOMEM or bad arguments. The classification file's errors go to diag.
 */
struct det_set *det_load(const char *const *paths, unsigned n_paths,
		const struct det_load_opts *opts, struct det_load_report *report,
		struct vg_diag *diag);

/* The same from memory; name is used in positions. */
struct det_set *det_load_buf(const char *name, const char *buf, size_t len,
		const struct det_load_opts *opts, struct det_load_report *report,
		struct vg_diag *diag);

/* Drop a reference; the set is freed with its last one. NULL is a no-op. */
void det_set_free(struct det_set *s);

/* Take a reference (det_compile does). */
struct det_set *det_set_ref(struct det_set *s);

unsigned det_set_count(const struct det_set *s);

/* Rule i (load order), or NULL. */
const struct det_rule *det_set_rule(const struct det_set *s, unsigned i);

/* Index of gid:sid, or -1. */
int det_set_find(const struct det_set *s, uint32_t gid, uint32_t sid);

#endif /* DET_LOAD_H */
