/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Loading rule files and directories and the load report: counts, reasons, positions,
 * duplicate sids, continuation lines; the public ET Open rules (every reject checked against
 * the rule text) and the suricata-verify rule files.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "det_test.h"

#define ET_DIR VIGIL_TESTDATA "/et-open"
#define SV_DIR VIGIL_TESTDATA "/suricata-verify"

static struct det_vars *vars;

static int
setup(void **state)
{
	(void)state;
	vars = det_vars_create();
	return vars == NULL || det_vars_set_defaults(vars) != 0 ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	det_vars_free(vars);
	return 0;
}

static struct det_set *
load_text(const char *text, struct det_load_report *rep)
{
	struct det_load_opts o;
	struct vg_diag d;
	struct det_set *s;

	det_load_opts_default(&o);
	o.vars = vars;
	vg_diag_init(&d);
	s = det_load_buf("t.rules", text, strlen(text), &o, rep, &d);
	assert_non_null(s);
	assert_int_equal(d.errors, 0);
	vg_diag_free(&d);
	return s;
}

static void
test_text_report(void **state)
{
	const char *text = "# a comment\n"
			   "\n"
			   "alert tcp any any -> any 80 (msg:\"one\"; content:\"a\"; sid:1;)\r\n"
			   "#alert tcp any any -> any any (sid:99;)\n"
			   "# drop udp any any -> any any (sid:98;)\n"
			   "alert tcp any any -> any any (msg:\"two\"; \\\n"
			   "    byte_math:bytes 1,offset 0,oper +,rvalue 1,result x; sid:2;)\n"
			   "alert tcp any any -> any any (msg:\"three\"; \\\n"
			   "    content:\"b\"; \\\n"
			   "    sid:3;)\n"
			   "alert tcp any any -> any any (hostbits:isset,x,src; sid:4;)\n"
			   "alert tcp any any -> any any (asn1:oversize_length 10; sid:5;)\n"
			   "alert tcp any any -> any any (content:\"c\"; sid:1;)\n"
			   "alert tcp any any -> any any (bogus; sid:6;)\n"
			   "   alert tcp any any -> any any (hostbits:set,y,dst; sid:7;)\n";
	struct det_load_report rep;
	struct det_set *s = load_text(text, &rep);
	const struct det_reject *e;

	(void)state;
	assert_int_equal(rep.files, 1);
	assert_int_equal(rep.rules, 8);
	assert_int_equal(rep.loaded, 2);
	assert_int_equal(rep.rejected, 6);
	assert_int_equal(rep.commented, 2);
	assert_int_equal(rep.by_reason[DET_R_UNSUPPORTED_KEYWORD], 4);
	assert_int_equal(rep.by_reason[DET_R_UNKNOWN_KEYWORD], 1);
	assert_int_equal(rep.by_reason[DET_R_DUPLICATE_SID], 1);
	/* most frequent keyword first */
	assert_int_equal(rep.n_keywords, 4);
	assert_string_equal(rep.keywords[0].keyword, "hostbits");
	assert_int_equal(rep.keywords[0].count, 2);
	assert_int_equal(rep.n_rejects, 6);
	/* the continuation line holds the keyword: its line and column */
	e = &rep.rejects[0];
	assert_string_equal(e->file, "t.rules");
	assert_int_equal(e->line, 7);
	assert_int_equal(e->col, 5);
	assert_int_equal(e->sid, 2);
	assert_int_equal(e->reason, DET_R_UNSUPPORTED_KEYWORD);
	assert_string_equal(e->keyword, "byte_math");
	e = &rep.rejects[3];
	assert_int_equal(e->line, 13);
	assert_int_equal(e->reason, DET_R_DUPLICATE_SID);
	assert_non_null(strstr(e->msg, "already defined at t.rules:3"));
	assert_int_equal(e->col, 44);
	e = &rep.rejects[5];
	assert_int_equal(e->line, 15);
	assert_int_equal(e->col, 34);

	assert_int_equal(det_set_count(s), 2);
	assert_int_equal(det_set_find(s, 1, 3), 1);
	assert_int_equal(det_set_find(s, 1, 4), -1);
	assert_string_equal(det_set_rule(s, 1)->info.msg, "three");
	assert_int_equal(det_set_rule(s, 1)->info.line, 8);
	assert_null(det_set_rule(s, 2));

	/* printed: a summary and, verbose, one line per reject */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		det_load_report_print(&rep, f, true);
		fclose(f);
		assert_non_null(strstr(buf, "8 rules: 2 loaded, 6 rejected (2 commented out)"));
		assert_non_null(strstr(buf, "unsupported_keyword 4"));
		assert_non_null(strstr(buf, "keywords not supported: hostbits 2"));
		assert_non_null(strstr(buf, "t.rules:7:5: error: sid 2: unsupported keyword "
					    "'byte_math'"));
		free(buf);
	}
	/* and as JSON */
	{
		json_t *j = det_load_report_json(&rep), *x;

		assert_non_null(j);
		assert_int_equal(json_integer_value(json_object_get(j, "loaded")), 2);
		x = json_object_get(json_object_get(j, "by_reason"), "duplicate_sid");
		assert_int_equal(json_integer_value(x), 1);
		x = json_array_get(json_object_get(j, "rejects"), 0);
		assert_string_equal(json_string_value(json_object_get(x, "keyword")), "byte_math");
		assert_int_equal(json_integer_value(json_object_get(x, "line")), 7);
		assert_int_equal(json_integer_value(json_object_get(x, "column")), 5);
		assert_string_equal(json_string_value(json_object_get(x, "reason")),
				"unsupported_keyword");
		json_decref(j);
	}
	det_set_free(s);
	det_load_report_free(&rep);
}

/*
 * Loading what parses must not change silently what the rest means: a rejected pass rule in
 * front of a drop (an allow-list), a flowbit that only a rejected rule sets or unsets.
 */
static void
test_partial_load_meaning(void **state)
{
	struct det_load_report rep;
	struct det_set *s;

	(void)state;
	/* The allow-list: the pass rule is rejected, the catch-all drop loads. */
	s = load_text("pass tcp 10.0.0.0/8 any -> any 80 (msg:\"web\"; lua:x.lua; sid:1;)\n"
		      "drop tcp any any -> any any (msg:\"rest\"; sid:2;)\n"
		      "drop udp any any -> any any (msg:\"udp\"; sid:3;)\n"
		      "drop tcp 192.168.0.0/16 any -> any any (msg:\"other net\"; sid:4;)\n"
		      "alert tcp any any -> any any (msg:\"just alerts\"; sid:5;)\n",
			&rep);
	assert_int_equal(rep.loaded, 4);
	assert_int_equal(rep.rejected_pass, 1);
	/* sid 2 only: sid 3 is UDP, sid 4's sources never overlap 10/8, sid 5 drops nothing */
	assert_int_equal(rep.meaning_changed, 1);
	assert_int_equal(rep.n_lost, 1);
	assert_int_equal(rep.lost[0].sid, 2);
	assert_int_equal(rep.lost[0].line, 2);
	assert_int_equal(rep.lost[0].lost_sid, 1);
	assert_int_equal(rep.lost[0].lost_line, 1);
	assert_non_null(strstr(rep.lost[0].msg, "unsupported_keyword 'lua'"));
	json_t *j = det_load_report_json(&rep);
	assert_int_equal(json_integer_value(json_object_get(j, "meaning_changed")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "lost")), 1);
	json_decref(j);
	det_set_free(s);
	det_load_report_free(&rep);

	/* A bidirectional pass rule overlaps a drop of the reverse direction. */
	s = load_text("pass tcp 10.0.0.1 any <> 10.0.0.2 22 (lua:x.lua; sid:11;)\n"
		      "drop tcp 10.0.0.2 22 -> 10.0.0.1 any (sid:12;)\n",
			&rep);
	assert_int_equal(rep.meaning_changed, 1);
	det_set_free(s);
	det_load_report_free(&rep);

	/* Flowbits: the setter is rejected; the isnotset drop would fire on every flow, the
	 * isset one never. A bit that a loaded rule also sets is not lost. */
	s = load_text("alert tcp any any -> any 80 (content:\"GET\"; flowbits:set,seen; "
		      "flowbits:noalert; lua:x.lua; sid:21;)\n"
		      "drop tcp any any -> any 80 (flowbits:isnotset,seen; sid:22;)\n"
		      "reject tcp any any -> any 80 (flowbits:isset,seen; sid:23;)\n"
		      "alert tcp any any -> any 81 (flowbits:set,both; lua:x.lua; sid:24;)\n"
		      "alert tcp any any -> any 81 (flowbits:set,both; flowbits:noalert; sid:25;)\n"
		      "drop tcp any any -> any 81 (flowbits:isset,both; sid:26;)\n"
		      "alert tcp any any -> any 80 (flowbits:isset,seen; sid:27;)\n",
			&rep);
	assert_int_equal(rep.rejected_pass, 0);
	assert_int_equal(rep.meaning_changed, 2);
	assert_int_equal(rep.lost[0].sid, 22);
	assert_int_equal(rep.lost[1].sid, 23);
	assert_int_equal(rep.lost[1].lost_sid, 21);
	assert_non_null(strstr(rep.lost[0].msg, "flowbit 'seen' is set only by a rejected rule"));
	det_set_free(s);
	det_load_report_free(&rep);

	/* Nothing depends on what was rejected: nothing to say. */
	s = load_text("alert tcp any any -> any 80 (lua:x.lua; sid:31;)\n"
		      "drop tcp any any -> any 81 (sid:32;)\n",
			&rep);
	assert_int_equal(rep.meaning_changed, 0);
	assert_int_equal(rep.n_lost, 0);
	det_set_free(s);
	det_load_report_free(&rep);
}

static void
test_reject_list_bounded(void **state)
{
	size_t n = DET_LOAD_REPORT_MAX_REJECTS + 50, cap = n * 64 + 1, off = 0;
	char *text = malloc(cap);
	struct det_load_report rep;
	struct det_set *s;

	(void)state;
	assert_non_null(text);
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(text + off, cap - off,
				"alert tcp any any -> any any (tag:session; sid:%zu;)\n", i + 1);
	s = load_text(text, &rep);
	assert_int_equal(rep.rejected, n);
	assert_int_equal(rep.n_rejects, DET_LOAD_REPORT_MAX_REJECTS);
	assert_int_equal(rep.rejects_dropped, 50);
	assert_int_equal(rep.keywords[0].count, n);
	det_set_free(s);
	det_load_report_free(&rep);
	free(text);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_files_and_dirs(void **state)
{
	char dir[] = "/tmp/det_load_XXXXXX", p[256], cls[256], missing[256];
	const char *paths[2];
	struct det_load_opts o;
	struct det_load_report rep;
	struct vg_diag d;
	struct det_set *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof(p), "%s/b.rules", dir);
	write_file(p, "alert udp any any -> any any (content:\"b\"; classtype:bad-unknown; sid:2;)\n");
	snprintf(p, sizeof(p), "%s/a.rules", dir);
	write_file(p, "alert udp any any -> any any (content:\"a\"; classtype:nope; sid:1;)\n"
		      "alert udp any any -> any any (content:\"a\"; classtype:bad-unknown; sid:3;)\n");
	snprintf(p, sizeof(p), "%s/notes.txt", dir);
	write_file(p, "alert udp any any -> any any (sid:9;)\n");
	snprintf(cls, sizeof(cls), "%s/classification.config", dir);
	write_file(cls, "config classification: bad-unknown,Potentially Bad Traffic,2\n");
	snprintf(missing, sizeof(missing), "%s/missing.rules", dir);

	det_load_opts_default(&o);
	o.classification = cls;
	paths[0] = dir;
	paths[1] = missing;
	vg_diag_init(&d);
	s = det_load(paths, 2, &o, &rep, &d);
	assert_non_null(s);
	/* the directory's *.rules, by name; the missing path is an error, the rest loads */
	assert_int_equal(rep.files, 2);
	assert_int_equal(rep.file_errors, 1);
	assert_int_equal(rep.loaded, 2);
	assert_int_equal(rep.rejected, 1);
	assert_int_equal(rep.rejects[0].reason, DET_R_UNKNOWN_CLASSTYPE);
	assert_int_equal(rep.rejects[0].line, 1);
	assert_non_null(strstr(rep.rejects[0].file, "/a.rules"));
	assert_diag(&d, 0, 0, "cannot read rules");
	assert_int_equal(det_set_rule(s, 0)->info.sid, 3);
	assert_int_equal(det_set_rule(s, 0)->info.priority, 2);
	assert_int_equal(det_set_rule(s, 1)->info.sid, 2);
	det_set_free(s);
	det_load_report_free(&rep);
	vg_diag_free(&d);

	unlink(cls);
	unlink(p);
	snprintf(p, sizeof(p), "%s/a.rules", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/b.rules", dir);
	unlink(p);
	rmdir(dir);
}

/* ---- ET Open ---- */

static bool
have_testdata(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Does any option of the rule name a keyword the table does not support? */
static bool
all_supported(const char *rule, const char **first_bad)
{
	const char *p = strchr(rule, '(');
	char name[64];

	if (p == NULL)
		return false;
	p++;
	while (*p && *p != ')') {
		size_t n = 0;

		while (*p == ' ')
			p++;
		while (*p && *p != ':' && *p != ';' && n + 1 < sizeof(name))
			name[n++] = *p++;
		name[n] = '\0';
		if (n > 0 && !det_keyword_supported(name)) {
			*first_bad = strstr(rule, name);
			return false;
		}
		/* skip the value to the next unescaped ';' */
		while (*p && *p != ';') {
			if (*p == '\\' && p[1])
				p++;
			p++;
		}
		if (*p == ';')
			p++;
	}
	return true;
}

static void
test_et_open(void **state)
{
	struct det_load_opts o;
	struct det_load_report rep;
	struct vg_diag d;
	struct det_set *s;
	struct det_compile_report cr;
	struct det_engine *e;
	const char *paths[] = { ET_DIR };
	unsigned expect_rules = 0, expect_loaded = 0;
	struct dirent **list;
	int n;

	(void)state;
	if (!have_testdata(ET_DIR)) {
		print_message("testdata not found at %s: skipped\n", ET_DIR);
		skip();
	}
	det_load_opts_default(&o);
	o.vars = vars;
	o.classification = ET_DIR "/classification.config";
	vg_diag_init(&d);
	s = det_load(paths, 1, &o, &rep, &d);
	assert_non_null(s);
	assert_int_equal(d.errors, 0);
	det_load_report_print(&rep, stdout, false);

	/* an independent count: active rule lines, and those naming only supported keywords */
	n = scandir(ET_DIR, &list, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		char path[512], line[16384];
		size_t l = strlen(list[i]->d_name);
		FILE *f;

		if (l < 7 || strcmp(list[i]->d_name + l - 6, ".rules") != 0) {
			free(list[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", ET_DIR, list[i]->d_name);
		free(list[i]);
		f = fopen(path, "r");
		assert_non_null(f);
		while (fgets(line, sizeof(line), f) != NULL) {
			const char *bad = NULL;

			if (strncmp(line, "alert ", 6) != 0 && strncmp(line, "drop ", 5) != 0)
				continue;
			expect_rules++;
			expect_loaded += all_supported(line, &bad);
		}
		fclose(f);
	}
	free(list);
	assert_int_equal(rep.files, 8);
	assert_int_equal(rep.rules, expect_rules);
	assert_int_equal(rep.loaded, expect_loaded);
	assert_int_equal(rep.loaded + rep.rejected, rep.rules);
	assert_true(rep.loaded > 100);

	/* every reject names a keyword that is in the rule at the reported line and column */
	for (unsigned i = 0; i < rep.n_rejects; i++) {
		const struct det_reject *e = &rep.rejects[i];
		FILE *f = fopen(e->file, "r");
		char line[16384];

		assert_non_null(f);
		for (unsigned k = 0; k < e->line; k++)
			assert_non_null(fgets(line, sizeof(line), f));
		fclose(f);
		assert_int_equal(e->reason, DET_R_UNSUPPORTED_KEYWORD);
		assert_false(det_keyword_supported(e->keyword));
		if (strncmp(line + e->col - 1, e->keyword, strlen(e->keyword)) != 0)
			fail_msg("%s:%u:%u: '%s' is not there: %.60s", e->file, e->line, e->col,
					e->keyword, line + e->col - 1);
		{
			char sid[32];

			snprintf(sid, sizeof(sid), "sid:%u;", e->sid);
			assert_non_null(strstr(line, sid));
		}
	}

	e = det_compile(s, NULL, &cr, &d);
	assert_non_null(e);
	det_compile_report_print(&cr, stdout);
	assert_int_equal(cr.rules, rep.loaded);
	assert_int_equal(cr.exact + cr.confirm + cr.unfiltered + cr.header + cr.tx, cr.rules);
	assert_int_equal(cr.tx, rep.tx);
	assert_true(cr.tx > 0);
	assert_int_equal(cr.unfiltered, 0);
	det_engine_free(e);
	det_compile_report_free(&cr);
	det_set_free(s);
	det_load_report_free(&rep);
	vg_diag_free(&d);
}

/* ---- suricata-verify rule files ---- */

static void
test_suricata_verify_rules(void **state)
{
	/* what each case's rules should give: loaded, rejected, the reason of the rejects */
	static const struct {
		const char *dir;
		unsigned loaded, rejected;
		enum det_reason reason;
	} cases[] = {
		{ "alert-distance-within-1", 1, 0, 0 },
		{ "bug-5197", 7, 0, 0 },
		{ "test-unreachable-distance-1", 2, 3, DET_R_CANNOT_MATCH },
		{ "test-dsize-values", 7, 0, 0 },
		/* pcre HTTP buffer modifiers (U, P, ...) make transaction rules */
		{ "detect-pcre_detect-pcre-01", 2, 0, 0 },
		{ "detect-pcre_detect-pcre-02", 2, 0, 0 },
		{ "detect-pcre_detect-pcre-03", 3, 0, 0 },
		{ "bug-2769", 2, 0, 0 },
		{ "detection_filter-distinct-dstport", 1, 0, 0 },
		{ "util-action-tests_util-action-01", 3, 0, 0 },
		{ "util-action-tests_util-action-03", 3, 0, 0 },
		{ "iponly-midstream-01", 4, 0, 0 },
		{ "eve-payload-05-tcp-data-gap", 7, 0, 0 },
	};
	struct dirent **list;
	int n, total = 0;

	(void)state;
	if (!have_testdata(SV_DIR)) {
		print_message("testdata not found at %s: skipped\n", SV_DIR);
		skip();
	}
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512];
		const char *paths[] = { path };
		struct det_load_opts o;
		struct det_load_report rep;
		struct vg_diag d;
		struct det_set *s;
		struct det_engine *e;

		snprintf(path, sizeof(path), "%s/%s/test.rules", SV_DIR, cases[i].dir);
		det_load_opts_default(&o);
		o.vars = vars;
		vg_diag_init(&d);
		s = det_load(paths, 1, &o, &rep, &d);
		assert_non_null(s);
		if (rep.loaded != cases[i].loaded || rep.rejected != cases[i].rejected) {
			det_load_report_print(&rep, stderr, true);
			fail_msg("%s: %u loaded, %u rejected", cases[i].dir, rep.loaded,
					rep.rejected);
		}
		if (cases[i].rejected > 0)
			assert_int_equal(rep.by_reason[cases[i].reason], cases[i].rejected);
		e = det_compile(s, NULL, NULL, &d);
		assert_non_null(e);
		det_engine_free(e);
		det_set_free(s);
		det_load_report_free(&rep);
		vg_diag_free(&d);
	}

	/* and every case's rule files load (whatever they hold) and compile */
	n = scandir(SV_DIR, &list, NULL, alphasort);
	assert_true(n > 0);
	for (int i = 0; i < n; i++) {
		char path[512];
		const char *paths[] = { path };
		struct det_load_report rep;
		struct det_load_opts o;
		struct vg_diag d;
		struct det_set *s;
		struct det_engine *e;

		snprintf(path, sizeof(path), "%s/%s", SV_DIR, list[i]->d_name);
		if (list[i]->d_name[0] == '.' || !have_testdata(path)) {
			/* LICENSE.txt and the like */
			free(list[i]);
			continue;
		}
		free(list[i]);
		det_load_opts_default(&o);
		o.vars = vars;
		vg_diag_init(&d);
		s = det_load(paths, 1, &o, &rep, &d);
		assert_non_null(s);
		assert_true(rep.files >= 1);
		total++;
		e = det_compile(s, NULL, NULL, &d);
		if (e == NULL) {
			vg_diag_print(&d, stderr);
			fail_msg("%s does not compile", path);
		}
		det_engine_free(e);
		det_set_free(s);
		det_load_report_free(&rep);
		vg_diag_free(&d);
	}
	free(list);
	assert_int_equal(total, 30);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_report),
		cmocka_unit_test(test_reject_list_bounded),
		cmocka_unit_test(test_partial_load_meaning),
		cmocka_unit_test(test_files_and_dirs),
		cmocka_unit_test(test_et_open),
		cmocka_unit_test(test_suricata_verify_rules),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
