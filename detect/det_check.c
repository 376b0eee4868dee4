/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * det_check: load signature files and directories as vigild would, print what loaded and why
 * the rest did not, compile the set and print what it costs. A tool, not a test.
 *
 *   det_check [-v] [-c classification.config] [-j] PATH...
 *     -v  list every kept reject as file:line:col: error: sid N: message, and the compiler's
 *         warnings (a pcre whose cost its length does not bound)
 *     -c  check classtypes against this classification file (priorities come from it)
 *     -j  print one JSON object: {"load": {...}, "compile": {...}, "load_ms", "peak_rss_bytes"}
 *
 * Variables take the values public rule sets expect (det_vars_set_defaults). Exit status: 0
 * when the set compiles, 1 when a path cannot be read or compiling fails, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "det_engine.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Peak resident memory of the process so far, in bytes. */
static long long
peak_rss(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return -1;
	return (long long)ru.ru_maxrss * 1024;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: det_check [-v] [-c classification.config] [-j] PATH...\n"
		   "  load signature files and directories (*.rules), print the load report,\n"
		   "  compile them and print the compile report\n"
		   "  -v  list every kept reject with file:line:col\n"
		   "  -c  classification file to check classtypes against\n"
		   "  -j  print the reports as one JSON object\n");
}

int
main(int argc, char **argv)
{
	const char *classification = NULL;
	bool verbose = false, json = false;
	struct det_load_opts o;
	struct det_load_report rep;
	struct det_compile_report cr;
	struct det_vars *vars;
	struct det_set *set;
	struct det_engine *e;
	struct vg_diag d;
	double t0, load_ms;
	long long rss_load;
	int c, rc = 0;

	while ((c = getopt(argc, argv, "vc:jh")) != -1) {
		switch (c) {
		case 'v':
			verbose = true;
			break;
		case 'c':
			classification = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	vars = det_vars_create();
	if (vars == NULL || det_vars_set_defaults(vars) != 0) {
		fprintf(stderr, "det_check: out of memory\n");
		return 1;
	}
	det_load_opts_default(&o);
	o.vars = vars;
	o.classification = classification;
	vg_diag_init(&d);
	t0 = now_ms();
	set = det_load((const char *const *)&argv[optind], (unsigned)(argc - optind), &o, &rep, &d);
	load_ms = now_ms() - t0;
	rss_load = peak_rss();
	if (set == NULL) {
		fprintf(stderr, "det_check: loading failed: out of memory\n");
		return 1;
	}
	if (d.errors > 0)
		rc = 1;
	if (!json) {
		vg_diag_print(&d, stderr);
		det_load_report_print(&rep, stdout, verbose);
		printf("loaded in %.1f ms, peak memory %.1f MiB\n", load_ms,
				(double)rss_load / (1 << 20));
		fflush(stdout);
	}
	vg_diag_free(&d);
	vg_diag_init(&d);
	e = det_compile(set, NULL, &cr, &d);
	/* -v: the compiler's warnings too (pcres whose cost their length does not bound) */
	if (e != NULL && verbose && !json)
		vg_diag_print(&d, stderr);
	if (e == NULL) {
		vg_diag_print(&d, stderr);
		fprintf(stderr, "det_check: compiling failed\n");
		rc = 1;
	}
	if (json) {
		json_t *j = json_object(), *lj = det_load_report_json(&rep);
		json_t *cj = e != NULL ? det_compile_report_json(&cr) : json_null();
		char *txt;

		if (j == NULL || lj == NULL || cj == NULL ||
				json_object_set_new(j, "load", lj) != 0 ||
				json_object_set_new(j, "compile", cj) != 0 ||
				json_object_set_new(j, "load_ms", json_real(load_ms)) != 0 ||
				json_object_set_new(j, "peak_rss_bytes",
						json_integer(peak_rss())) != 0) {
			fprintf(stderr, "det_check: out of memory\n");
			return 1;
		}
		txt = json_dumps(j, JSON_INDENT(1));
		if (txt != NULL)
			printf("%s\n", txt);
		free(txt);
		json_decref(j);
	} else if (e != NULL) {
		det_compile_report_print(&cr, stdout);
		printf("peak memory %.1f MiB (after loading: %.1f MiB)\n",
				(double)peak_rss() / (1 << 20), (double)rss_load / (1 << 20));
	}
	det_engine_free(e);
	det_compile_report_free(&cr);
	det_set_free(set);
	det_load_report_free(&rep);
	vg_diag_free(&d);
	det_vars_free(vars);
	return rc;
}
