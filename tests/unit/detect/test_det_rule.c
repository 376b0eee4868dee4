/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The rule parser: every keyword's valid forms give the right model, every invalid form is
 * rejected with the right reason, keyword and column; address and port sets and variables;
 * classification.config.
 */
#include <arpa/inet.h>

#include "al.h"
#include "det_test.h"

static struct det_vars *vars;

static int
setup(void **state)
{
	(void)state;
	vars = det_vars_create();
	if (vars == NULL || det_vars_set_addr(vars, "HOME_NET", "[10.0.0.0/8,192.168.0.0/16]") ||
			det_vars_set_addr(vars, "LOOP_A", "[1.1.1.1,$LOOP_B]") ||
			det_vars_set_addr(vars, "LOOP_B", "$LOOP_A") ||
			det_vars_set_port(vars, "WEB", "[80,443,8000:8099]") ||
			det_vars_set_defaults(vars))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	det_vars_free(vars);
	return 0;
}

static int
parse(const char *text, struct det_rule **r, struct det_parse_err *err)
{
	struct det_parse_ctx ctx = { .vars = vars, .app_proto_ports = true };

	return det_rule_parse(text, "t.rules", 1, &ctx, r, err);
}

static struct det_rule *
ok(const char *text)
{
	struct det_rule *r = NULL;
	struct det_parse_err err;

	if (parse(text, &r, &err) != 0)
		fail_msg("'%s' rejected at %u (%s): %s", text, err.off + 1,
				det_reason_name(err.reason), err.msg);
	return r;
}

/* Reject with reason at 1-based column col (0: any), message containing text. */
static void
bad_at(const char *rule, enum det_reason reason, unsigned col, const char *kw, const char *text,
		int line)
{
	struct det_rule *r = NULL;
	struct det_parse_err err;

	if (parse(rule, &r, &err) == 0) {
		det_rule_free(r);
		fail_msg("line %d: '%s' was accepted", line, rule);
	}
	if (err.reason != reason || (col != 0 && err.off + 1 != col) ||
			strstr(err.msg, text) == NULL ||
			(kw != NULL && strcmp(err.keyword, kw) != 0))
		fail_msg("line %d: '%s': got %s at column %u keyword '%s': %s", line, rule,
				det_reason_name(err.reason), err.off + 1, err.keyword, err.msg);
}

#define BAD(rule, reason, col, kw, text) bad_at(rule, reason, col, kw, text, __LINE__)

#define H "alert tcp any any -> any any "

static void
test_header_valid(void **state)
{
	struct det_rule *r;
	static const uint8_t a[16] = { 10, 1, 2, 3 }, b[16] = { 8, 8, 8, 8 };

	(void)state;
	r = ok("drop udp $HOME_NET any -> $EXTERNAL_NET $WEB (sid:5;)");
	assert_int_equal(r->info.action, DET_ACT_DROP);
	assert_int_equal(r->classes, DET_CL_UDP);
	assert_true(det_ipset_has(&r->src, 4, a));
	assert_false(det_ipset_has(&r->src, 4, b));
	assert_true(det_ipset_has(&r->dst, 4, b));
	assert_false(det_ipset_has(&r->dst, 4, a));
	assert_true(det_portset_has(&r->dport, 8050));
	assert_false(det_portset_has(&r->dport, 8100));
	assert_true(r->sport.any);
	assert_true(r->ports_apply);
	assert_int_equal(r->info.gid, 1);
	assert_int_equal(r->info.priority, 3);
	assert_string_equal(r->info.msg, "");
	det_rule_free(r);

	r = ok("pass ip [10.0.0.0/8, 192.168.0.0/16] any <> any any (sid:1;)");
	assert_true(r->bidir);
	assert_int_equal(r->info.action, DET_ACT_PASS);
	assert_int_equal(r->classes,
			DET_CL_TCP_PKT | DET_CL_UDP | DET_CL_ICMP | DET_CL_SCTP | DET_CL_OTHER);
	det_rule_free(r);

	r = ok("rejectsrc tcp-pkt any any -> any any (content:\"x\"; sid:1;)");
	assert_int_equal(r->info.action, DET_ACT_REJECT);
	assert_int_equal(r->classes, DET_CL_TCP_PKT);
	det_rule_free(r);
	r = ok("reject udp any any -> any any (sid:1;)");
	assert_int_equal(r->info.action, DET_ACT_REJECT);
	assert_int_equal(r->info.reject_to, DET_REJ_SRC);
	det_rule_free(r);
	/* Suricata 7 and 8's other rejects: a reset to the receiver, or to both */
	r = ok("rejectdst tcp any any -> any any (sid:1;)");
	assert_int_equal(r->info.action, DET_ACT_REJECT);
	assert_int_equal(r->info.reject_to, DET_REJ_DST);
	det_rule_free(r);
	r = ok("rejectboth tcp any any -> any any (content:\"x\"; sid:1;)");
	assert_int_equal(r->info.action, DET_ACT_REJECT);
	assert_int_equal(r->info.reject_to, DET_REJ_BOTH);
	det_rule_free(r);
	r = ok("drop icmp any any -> any any (sid:1;)");
	assert_int_equal(r->info.action, DET_ACT_DROP);
	det_rule_free(r);

	/* tcp with payload is a stream rule; with dsize or flags, or without payload, a packet
	 * rule */
	r = ok(H "(content:\"x\"; sid:1;)");
	assert_int_equal(r->classes, DET_CL_TCP_STREAM);
	det_rule_free(r);
	r = ok(H "(content:\"x\"; dsize:>1; sid:1;)");
	assert_int_equal(r->classes, DET_CL_TCP_PKT);
	det_rule_free(r);
	r = ok(H "(content:\"x\"; flow:no_stream; sid:1;)");
	assert_int_equal(r->classes, DET_CL_TCP_PKT);
	det_rule_free(r);
	r = ok(H "(sid:1;)");
	assert_int_equal(r->classes, DET_CL_TCP_PKT);
	det_rule_free(r);

	/* a long reputation-style list (thousands of characters in one token) */
	{
		size_t cap = 16384, off = 0;
		char *text = malloc(cap);
		static const uint8_t in[16] = { 10, 1, 1, 250 }, out[16] = { 10, 1, 2, 1 };

		assert_non_null(text);
		off += (size_t)snprintf(text, cap, "alert ip [");
		for (int i = 0; i < 500; i++)
			off += (size_t)snprintf(text + off, cap - off, "%s10.1.%d.%d",
					i ? ", " : "", i / 250 * 4 + 1, i % 250 + 1);
		snprintf(text + off, cap - off, "] any -> any any (sid:1;)");
		assert_true(strlen(text) > 4000);
		r = ok(text);
		assert_true(det_ipset_has(&r->src, 4, in));
		assert_false(det_ipset_has(&r->src, 4, out));
		det_rule_free(r);
		free(text);
	}

	r = ok("alert dns any any -> any any (content:\"x\"; sid:1;)");
	assert_true(r->app_approx);
	assert_int_equal(r->classes, DET_CL_TCP_STREAM | DET_CL_UDP);
	assert_true(det_portset_has(&r->app_ports, 53));
	det_rule_free(r);
}

static void
test_header_invalid(void **state)
{
	struct det_rule *r = NULL;
	struct det_parse_err err;
	struct det_parse_ctx strict = { .vars = vars, .app_proto_ports = false };

	(void)state;
	BAD("alrt tcp any any -> any any (sid:1;)", DET_R_SYNTAX, 1, "", "not an action");
	BAD("config tcp any any -> any any (sid:1;)", DET_R_UNSUPPORTED_ACTION, 1, "", "config");
	/* Suricata 8 firewall mode: each scope refused with what Vigil does instead */
	BAD("accept:flow tcp:all any any -> any any (sid:1;)", DET_R_UNSUPPORTED_ACTION, 1, "",
			"policy rule with action allow (stateful");
	BAD("accept:packet tcp:all any any -> any any (sid:1;)", DET_R_UNSUPPORTED_ACTION, 1, "",
			"policy rule with action allow (stateless");
	BAD("accept:hook http1:request_line any any -> any any (sid:1;)", DET_R_UNSUPPORTED_ACTION,
			1, "", "scope :hook cannot be honoured");
	BAD("accept:tx http1:request_complete any any -> any any (sid:1;)",
			DET_R_UNSUPPORTED_ACTION, 1, "", "scope :tx cannot be honoured");
	BAD("accept tcp any any -> any any (sid:1;)", DET_R_UNSUPPORTED_ACTION, 1, "",
			"needs a scope");
	BAD("drop:packet tcp any any -> any any (sid:1;)", DET_R_UNSUPPORTED_ACTION, 1, "",
			"action scope 'drop:packet'");
	BAD("drop tcp:all any any -> any any (sid:1;)", DET_R_UNSUPPORTED_PROTOCOL, 6, "",
			"rule hook 'tcp:all'");
	BAD("alert foo any any -> any any (sid:1;)", DET_R_UNSUPPORTED_PROTOCOL, 7, "",
			"protocol 'foo'");
	BAD("alert tcp 1.2.3 any -> any any (sid:1;)", DET_R_BAD_ADDRESS, 11, "", "'1.2.3'");
	BAD("alert tcp [1.1.1.1, 2.2.2] any -> any any (sid:1;)", DET_R_BAD_ADDRESS, 21, "",
			"'2.2.2'");
	BAD("alert tcp 10.0.0.0/33 any -> any any (sid:1;)", DET_R_BAD_ADDRESS, 20, "",
			"'/33' is not a prefix length (0-32) or a netmask");
	BAD("alert tcp 1.1.1.1-::2 any -> any any (sid:1;)", DET_R_BAD_ADDRESS, 19, "",
			"'::2' is not an IPv4 address");
	BAD("alert tcp any 70000 -> any any (sid:1;)", DET_R_BAD_ADDRESS, 15, "", "out of range");
	BAD("alert tcp any 90:80 -> any any (sid:1;)", DET_R_BAD_ADDRESS, 15, "",
			"ends before it starts");
	BAD("alert tcp any any <- any any (sid:1;)", DET_R_SYNTAX, 19, "", "'<-'");
	BAD("alert tcp any any => any any (sid:1;)", DET_R_SYNTAX, 19, "", "not a direction");
	BAD("alert tcp $NOPE any -> any any (sid:1;)", DET_R_UNDEFINED_VARIABLE, 11, "",
			"undefined variable '$NOPE'");
	BAD("alert tcp any $HOME_NET -> any any (sid:1;)", DET_R_BAD_ADDRESS, 15, "",
			"an address group, not a port group");
	BAD("alert tcp $LOOP_A any -> any any (sid:1;)", DET_R_BAD_ADDRESS, 11, "", "levels");
	BAD("alert tcp [1.1.1.1,!1.1.1.1] any -> any any (sid:1;)", DET_R_BAD_ADDRESS, 11, "",
			"empty");
	BAD("alert tcp any any -> any (sid:1;)", DET_R_SYNTAX, 0, "", "destination port");
	BAD("alert tcp any any -> any any sid:1;", DET_R_SYNTAX, 0, "", "no '('");
	BAD("alert tcp any any -> any any (sid:1;) x", DET_R_SYNTAX, 39, "", "after the closing");
	BAD("alert tcp any any -> any any 80 (sid:1;)", DET_R_SYNTAX, 30, "", "unexpected '80'");
	BAD("alert icmp any 80 -> any any (sid:1;)", DET_R_INVALID_COMBINATION, 16, "", "no ports");
	BAD(H "(msg:\"x\";)", DET_R_MISSING_SID, 0, NULL, "no sid");
	/* without ports to fall back on, a protocol without a parser is refused... */
	assert_int_equal(det_rule_parse("alert smb any any -> any any (sid:1;)", "t", 1, &strict,
					 &r, &err),
			-EINVAL);
	assert_int_equal(err.reason, DET_R_UNSUPPORTED_PROTOCOL);
	assert_non_null(strstr(err.msg, "no parser"));
	/* ...and one with a parser matches the flows detected as it, on any port */
	assert_int_equal(det_rule_parse("alert http any any -> any any (sid:1;)", "t", 1, &strict,
					 &r, &err),
			0);
	assert_int_equal(r->app_proto, AL_PROTO_HTTP);
	assert_false(r->app_approx);
	det_rule_free(r);
}

static void
test_options_valid(void **state)
{
	struct det_rule *r;
	const struct det_content *c;

	(void)state;
	r = ok(H "(msg:\"say \\\"hi\\\"\\; now\"; content:\"A|0d 0A|\"; nocase; offset:2; depth:9; "
		 "content:!\"b\"; distance:-1; within:4; fast_pattern; "
		 "sid:42; rev:3; gid:7; priority:2; classtype:trojan-activity; "
		 "metadata:created_at 2024, tag x; reference:url,example.com/a; "
		 "reference:cve,2024-1; target:dest_ip; rawbytes;)");
	assert_string_equal(r->info.msg, "say \"hi\"; now");
	assert_int_equal(r->info.sid, 42);
	assert_int_equal(r->info.rev, 3);
	assert_int_equal(r->info.gid, 7);
	assert_int_equal(r->info.priority, 2);
	assert_string_equal(r->info.classtype, "trojan-activity");
	assert_string_equal(r->info.metadata, "created_at 2024, tag x");
	assert_string_equal(r->references, "url,example.com/a; cve,2024-1");
	assert_int_equal(r->n_items, 2);
	c = &r->items[0].c;
	assert_int_equal(c->len, 3);
	assert_memory_equal(c->pat, "A\r\n", 3);
	assert_int_equal(c->flags, DET_C_NOCASE | DET_C_OFFSET | DET_C_DEPTH);
	assert_int_equal(c->offset, 2);
	assert_int_equal(c->depth, 9);
	assert_false(r->items[0].relative);
	c = &r->items[1].c;
	assert_true(r->items[1].relative);
	assert_int_equal(c->flags,
			DET_C_NEGATED | DET_C_DISTANCE | DET_C_WITHIN | DET_C_FAST_PATTERN);
	assert_int_equal(c->distance, -1);
	assert_int_equal(c->within, 4);
	assert_int_equal(r->items[0].col + 1, 55);
	det_rule_free(r);

	/* a first content that is relative becomes an absolute window */
	r = ok(H "(content:\"ab\"; distance:3; within:4; sid:1;)");
	c = &r->items[0].c;
	assert_false(r->items[0].relative);
	assert_int_equal(c->flags, DET_C_OFFSET | DET_C_DEPTH);
	assert_int_equal(c->offset, 3);
	assert_int_equal(c->depth, 4);
	det_rule_free(r);

	r = ok(H "(content:\"x\"; startswith; fast_pattern:only; sid:1;)");
	assert_int_equal(r->items[0].c.depth, 1);
	det_rule_free(r);

	r = ok(H "(pcre:!\"/a\\/b\\;c/smixAEGOB\"; content:\"x\"; pcre:\"/y/R\"; sid:1;)");
	assert_int_equal(r->n_items, 3);
	assert_string_equal(r->items[0].p.expr, "a\\/b\\;c");
	assert_int_equal(r->items[0].p.flags,
			DET_P_NEGATED | DET_P_DOTALL | DET_P_MULTILINE | DET_P_CASELESS |
					DET_P_EXTENDED | DET_P_ANCHORED | DET_P_DOLLAR_ENDONLY |
					DET_P_UNGREEDY);
	assert_true(r->items[2].relative);
	det_rule_free(r);

	/* R on the first payload keyword is relative to the start: plain */
	r = ok(H "(pcre:\"/^y/R\"; sid:1;)");
	assert_false(r->items[0].relative);
	det_rule_free(r);

	r = ok(H "(flow:established,from_client; dsize:8<>20; flags:+SA,CE; sid:1;)");
	assert_int_equal(r->flow, DET_FLOW_ESTABLISHED | DET_FLOW_TO_SERVER);
	assert_int_equal(r->dsize.op, DET_NOP_RANGE);
	assert_int_equal(r->dsize.lo, 8);
	assert_int_equal(r->dsize.hi, 20);
	assert_int_equal(r->tflags_mode, DET_TF_ALL);
	assert_int_equal(r->tflags, 0x12);
	assert_int_equal(r->tflags_ignore, 0xc0);
	det_rule_free(r);

	r = ok(H "(threshold: type both, track by_dst, count 5, seconds 360; sid:1;)");
	assert_int_equal(r->th.type, DET_TH_BOTH);
	assert_int_equal(r->th.track, DET_TRACK_DST);
	assert_int_equal(r->th.count, 5);
	assert_int_equal(r->th.seconds, 360);
	det_rule_free(r);
	r = ok(H "(detection_filter:track by_both,count 10,seconds 60; sid:1;)");
	assert_int_equal(r->th.type, DET_TH_DETECTION_FILTER);
	assert_int_equal(r->th.track, DET_TRACK_BOTH);
	assert_int_equal(r->th.unique_on, DET_UNIQ_NONE);
	det_rule_free(r);
	r = ok(H "(detection_filter:track by_src, count 3, seconds 60, unique_on src_port; sid:1;)");
	assert_int_equal(r->th.unique_on, DET_UNIQ_SRC_PORT);
	assert_int_equal(r->th.count, 3);
	det_rule_free(r);
	r = ok(H "(detection_filter:unique_on dst_port,track by_dst,count 1,seconds 9; sid:1;)");
	assert_int_equal(r->th.unique_on, DET_UNIQ_DST_PORT);
	det_rule_free(r);

	r = ok(H "(content:\"a\"; byte_test:4,!<=,0x10,-2,relative,little,bitmask 0xff00; "
		 "byte_jump:3,4,relative,string,hex,multiplier 8,align,from_end,post_offset -3; "
		 "sid:1;)");
	assert_int_equal(r->items[1].type, DET_ITEM_BYTE_TEST);
	assert_true(r->items[1].relative);
	assert_int_equal(r->items[1].b.nbytes, 4);
	assert_int_equal(r->items[1].b.op, DET_BOP_LE);
	assert_true(r->items[1].b.negated);
	assert_int_equal(r->items[1].b.value, 16);
	assert_int_equal(r->items[1].b.offset, -2);
	assert_true(r->items[1].b.little);
	assert_int_equal(r->items[1].b.bitmask, 0xff00);
	assert_int_equal(r->items[2].type, DET_ITEM_BYTE_JUMP);
	assert_int_equal(r->items[2].b.base, 16);
	assert_int_equal(r->items[2].b.multiplier, 8);
	assert_true(r->items[2].b.align);
	assert_true(r->items[2].b.from_end);
	assert_int_equal(r->items[2].b.post_offset, -3);
	det_rule_free(r);

	r = ok(H "(flowbits:isset,a|b; flowbits:set,c; flowbits:noalert; flowbits:toggle,d; "
		 "flowbits:isnotset,e; flowbits:unset,f; sid:1;)");
	assert_int_equal(r->n_fb, 5);
	assert_int_equal(r->fb[0].cmd, DET_FB_ISSET);
	assert_int_equal(r->fb[0].n, 2);
	assert_string_equal(r->fb[0].names[1], "b");
	assert_int_equal(r->fb[1].cmd, DET_FB_SET);
	assert_int_equal(r->fb[2].cmd, DET_FB_TOGGLE);
	assert_int_equal(r->fb[3].cmd, DET_FB_ISNOTSET);
	assert_int_equal(r->fb[4].cmd, DET_FB_UNSET);
	assert_true(r->noalert);
	det_rule_free(r);

	r = ok(H "(content:\"a\"; isdataat:!10,relative; noalert; sid:1;)");
	assert_int_equal(r->items[1].type, DET_ITEM_ISDATAAT);
	assert_true(r->items[1].d.negated);
	assert_true(r->items[1].relative);
	assert_true(r->noalert);
	det_rule_free(r);
}

static void
test_options_invalid(void **state)
{
	(void)state;
	/* columns are 1-based positions in the rule text; the options start at column 31 */
	BAD(H "(foo:1; sid:1;)", DET_R_UNKNOWN_KEYWORD, 31, "foo", "unknown keyword 'foo'");
	BAD(H "(sid:1; byte_extract:1,0,x;)", DET_R_UNSUPPORTED_KEYWORD, 38, "byte_extract",
			"byte_extract");
	BAD(H "(sid:1; xbits:set,x,track ip_src;)", DET_R_UNSUPPORTED_KEYWORD, 38, "xbits",
			"state");
	BAD(H "(http.request_header; content:\"x\"; sid:1;)", DET_R_UNSUPPORTED_KEYWORD, 31,
			"http.request_header", "parsers do not provide");
	BAD(H "(smb.share; content:\"x\"; sid:1;)", DET_R_UNSUPPORTED_KEYWORD, 31, "smb.share",
			"no parser");
	BAD(H "(content:x; sid:1;)", DET_R_SYNTAX, 39, "content", "quoted string");
	BAD(H "(content:\"|4x|\"; sid:1;)", DET_R_INVALID_VALUE, 42, "content", "hex digit");
	BAD(H "(content:\"|414|\"; sid:1;)", DET_R_INVALID_VALUE, 44, "content", "odd number");
	BAD(H "(content:\"|41\"; sid:1;)", DET_R_INVALID_VALUE, 0, "content", "not closed");
	BAD(H "(content:\"a\\qb\"; sid:1;)", DET_R_INVALID_VALUE, 41, "content", "'\\q'");
	BAD(H "(content:\"a\"b\"; sid:1;)", DET_R_INVALID_VALUE, 41, "content", "unescaped");
	BAD(H "(content:\"\"; sid:1;)", DET_R_INVALID_VALUE, 39, "content", "empty");
	BAD(H "(content:\"||\"; sid:1;)", DET_R_INVALID_VALUE, 39, "content", "empty");
	BAD(H "(content; sid:1;)", DET_R_SYNTAX, 31, "content", "needs a value");
	BAD(H "(nocase; content:\"x\"; sid:1;)", DET_R_SYNTAX, 31, "nocase", "no content precedes");
	BAD(H "(content:\"x\"; nocase:1; sid:1;)", DET_R_SYNTAX, 51, "nocase", "takes no value");
	BAD(H "(content:\"abc\"; depth:0; sid:1;)", DET_R_INVALID_VALUE, 52, "depth", "from 1");
	BAD(H "(content:\"abc\"; depth:2; sid:1;)", DET_R_INVALID_VALUE, 31, "content",
			"depth 2 is shorter");
	BAD(H "(content:\"abc\"; offset:-1; sid:1;)", DET_R_INVALID_VALUE, 53, "offset", "from 0");
	BAD(H "(content:\"abc\"; offset:x; sid:1;)", DET_R_INVALID_VALUE, 53, "offset", "'x'");
	BAD(H "(content:\"abc\"; depth:3; depth:4; sid:1;)", DET_R_INVALID_COMBINATION, 55, "depth",
			"twice");
	BAD(H "(content:\"a\"; content:\"abc\"; distance:1; depth:5; sid:1;)",
			DET_R_INVALID_COMBINATION, 44, "content", "relative");
	BAD(H "(content:\"a\"; content:\"abc\"; within:2; sid:1;)", DET_R_INVALID_VALUE, 44,
			"content", "within 2 is shorter");
	BAD(H "(content:\"a\"; fast_pattern; content:\"b\"; fast_pattern; sid:1;)",
			DET_R_INVALID_COMBINATION, 71, "fast_pattern", "twice");
	BAD(H "(content:\"abc\"; fast_pattern:1,5; sid:1;)", DET_R_INVALID_VALUE, 59,
			"fast_pattern", "inside");
	BAD(H "(http.header; pcre:\"/a/U\"; sid:1;)", DET_R_INVALID_COMBINATION, 49, "pcre",
			"sticky buffer http.header");
	BAD(H "(pcre:\"/a/UH\"; sid:1;)", DET_R_INVALID_COMBINATION, 0, "pcre", "two buffers");
	BAD(H "(pcre:\"/a/q\"; sid:1;)", DET_R_INVALID_VALUE, 0, "pcre", "not a pcre modifier");
	BAD(H "(pcre:\"/(a/\"; sid:1;)", DET_R_PCRE, 0, "pcre", "does not compile");
	BAD(H "(pcre:\"abc\"; sid:1;)", DET_R_SYNTAX, 36, "pcre", "/regex/flags");
	BAD(H "(pcre:\"/abc\"; sid:1;)", DET_R_SYNTAX, 36, "pcre", "no closing");
	BAD(H "(flow:to_server,to_client; sid:1;)", DET_R_INVALID_COMBINATION, 36, "flow", "both");
	BAD(H "(flow:sideways; sid:1;)", DET_R_INVALID_VALUE, 36, "flow", "'sideways'");
	BAD(H "(flow:only_frag; sid:1;)", DET_R_UNSUPPORTED_MODIFIER, 36, "flow", "only_frag");
	BAD(H "(flow:only_stream; sid:1;)", DET_R_INVALID_COMBINATION, 0, NULL, "only_stream");
	BAD(H "(dsize:abc; sid:1;)", DET_R_INVALID_VALUE, 37, "dsize", "should be N");
	BAD(H "(dsize:10<>5; sid:1;)", DET_R_INVALID_VALUE, 37, "dsize", "range");
	BAD(H "(dsize:<0; sid:1;)", DET_R_CANNOT_MATCH, 37, "dsize", "never");
	BAD(H "(dsize:5; content:\"abc\"; offset:3; sid:1;)", DET_R_CANNOT_MATCH, 31, "dsize",
			"at least 6 bytes but dsize allows at most 5");
	BAD(H "(flags:X; sid:1;)", DET_R_INVALID_VALUE, 37, "flags", "'X' is not a TCP flag");
	BAD(H "(flags:0S; sid:1;)", DET_R_INVALID_VALUE, 37, "flags", "'0'");
	BAD("alert udp any any -> any any (flags:S; sid:1;)", DET_R_INVALID_COMBINATION, 0, NULL,
			"not tcp");
	BAD(H "(threshold:type limit, count 1, seconds 1; sid:1;)", DET_R_INVALID_VALUE, 41,
			"threshold", "needs type, track, count and seconds");
	BAD(H "(threshold:type backoff, track by_src, count 1, multiplier 10; sid:1;)",
			DET_R_INVALID_VALUE, 41, "threshold", "backoff needs track by_flow");
	BAD(H "(threshold:type backoff, track by_flow, count 1; sid:1;)", DET_R_INVALID_VALUE, 41,
			"threshold", "multiplier");
	BAD(H "(threshold:type backoff, track by_flow, count 1, multiplier 1; sid:1;)",
			DET_R_INVALID_VALUE, 41, "threshold", "multiplier '1'");
	BAD(H "(threshold:type limit, track by_src, count 1, seconds 1, multiplier 2; sid:1;)",
			DET_R_INVALID_VALUE, 41, "threshold", "backoff only");
	BAD(H "(detection_filter:track by_dst, count 1, seconds 60, unique_on proto; sid:1;)",
			DET_R_INVALID_VALUE, 48, "detection_filter", "not src_port or dst_port");
	BAD(H "(threshold:type limit, track by_dst, count 1, seconds 60, unique_on dst_port; "
	      "sid:1;)",
			DET_R_UNSUPPORTED_MODIFIER, 41, "threshold", "unique_on");
	BAD(H "(threshold:type limit,track by_src,count 1,seconds 1; "
	      "detection_filter:track by_src,count 1,seconds 1; sid:1;)",
			DET_R_INVALID_COMBINATION, 84, "detection_filter", "only one");
	BAD(H "(flowint:cnt; sid:1;)", DET_R_INVALID_VALUE, 39, "flowint", "name, op");
	BAD(H "(flowint:cnt,**,1; sid:1;)", DET_R_INVALID_VALUE, 39, "flowint", "'**'");
	BAD(H "(flowint:cnt,+; sid:1;)", DET_R_INVALID_VALUE, 39, "flowint", "+ needs a value");
	BAD(H "(flowint:cnt,isset,1; sid:1;)", DET_R_INVALID_VALUE, 39, "flowint",
			"takes no value");
	BAD(H "(flowint:cnt,>,other; sid:1;)", DET_R_UNSUPPORTED_MODIFIER, 39, "flowint",
			"another variable");
	BAD(H "(sid:0;)", DET_R_INVALID_VALUE, 35, "sid", "from 1");
	BAD(H "(sid:abc;)", DET_R_INVALID_VALUE, 35, "sid", "'abc'");
	BAD(H "(sid:1; sid:2;)", DET_R_INVALID_COMBINATION, 38, "sid", "twice");
	BAD(H "(sid:1; priority:0;)", DET_R_INVALID_VALUE, 47, "priority", "1 to 255");
	BAD(H "(sid:1; classtype:a b;)", DET_R_INVALID_VALUE, 48, "classtype", "not a name");
	BAD(H "(sid:1; reference:nocomma;)", DET_R_INVALID_VALUE, 48, "reference", "type,id");
	BAD(H "(sid:1; msg:\"x\")", DET_R_SYNTAX, 38, NULL, "not terminated");
	BAD(H "(sid:1;; msg:\"x\";)", DET_R_SYNTAX, 37, NULL, "empty option");
	BAD(H "(byte_test:1,>,2; sid:1;)", DET_R_INVALID_VALUE, 41, "byte_test", "needs bytes");
	BAD(H "(byte_test:9,>,2,0; sid:1;)", DET_R_INVALID_VALUE, 41, "byte_test", "at most 8");
	BAD(H "(byte_test:1,~,2,0; sid:1;)", DET_R_INVALID_VALUE, 41, "byte_test", "operator");
	BAD(H "(byte_test:1,>,x,0; sid:1;)", DET_R_INVALID_VALUE, 41, "byte_test", "value 'x'");
	BAD(H "(byte_test:1,>,1,0,string; sid:1;)", DET_R_INVALID_VALUE, 41, "byte_test", "base");
	BAD(H "(byte_test:1,>,1,0,dce; sid:1;)", DET_R_UNSUPPORTED_MODIFIER, 41, "byte_test",
			"DCERPC");
	BAD(H "(byte_jump:1,0,sideways; sid:1;)", DET_R_INVALID_VALUE, 41, "byte_jump",
			"'sideways'");
	BAD(H "(byte_jump:1,0,from_beginning,from_end; sid:1;)", DET_R_INVALID_COMBINATION, 41,
			"byte_jump", "both");
	BAD(H "(flowbits:sett,x; sid:1;)", DET_R_INVALID_VALUE, 40, "flowbits", "'sett'");
	BAD(H "(flowbits:set; sid:1;)", DET_R_INVALID_VALUE, 40, "flowbits", "needs a name");
	BAD(H "(flowbits:set,a|b; sid:1;)", DET_R_UNSUPPORTED_MODIFIER, 40, "flowbits", "one name");
	BAD(H "(flowbits:isset,a b; sid:1;)", DET_R_INVALID_VALUE, 40, "flowbits", "spaces");
	{
		char text[1024];

		snprintf(text, sizeof(text), H "(flowbits:isset,%0600d; sid:1;)", 7);
		BAD(text, DET_R_INVALID_VALUE, 40, "flowbits", "longer than 511");
	}
	BAD(H "(isdataat:x; sid:1;)", DET_R_INVALID_VALUE, 40, "isdataat", "[!]N");
	BAD("alert tcp-stream any any -> any any (dsize:1; content:\"x\"; sid:1;)",
			DET_R_INVALID_COMBINATION, 0, NULL, "tcp-stream");
}

/* A rejected rule still reports its sid. */
static void
test_sid_in_errors(void **state)
{
	struct det_rule *r = NULL;
	struct det_parse_err err;

	(void)state;
	assert_int_equal(parse(H "(msg:\"a\"; byte_math:bytes 1; sid:2001;)", &r, &err), -EINVAL);
	assert_int_equal(err.sid, 2001);
	assert_string_equal(err.keyword, "byte_math");
	assert_int_equal(parse("alert tcp 1.2.3.4.5 any -> any any (sid: 77;)", &r, &err), -EINVAL);
	assert_int_equal(err.sid, 77);
}

static void
test_classification(void **state)
{
	const char *cfg = "# comment\n"
			  "config classification: web-application-attack,Web Application "
			  "Attack,1\n"
			  "config classification: misc-activity,Misc activity,3\n"
			  "config classification: bad,,x\n"
			  "nonsense\n";
	struct det_classes cl = { 0 };
	struct vg_diag d;
	struct det_parse_ctx ctx = { .vars = vars, .classes = &cl };
	struct det_rule *r = NULL;
	struct det_parse_err err;

	(void)state;
	vg_diag_init(&d);
	assert_int_equal(det_classes_load_buf(&cl, "c.config", cfg, strlen(cfg), &d), -EINVAL);
	assert_int_equal(cl.n, 2);
	assert_diag(&d, 4, 0, "priority 'x'");
	assert_diag(&d, 5, 1, "expected 'config classification");
	assert_int_equal(det_rule_parse(H "(classtype:web-application-attack; sid:1;)", "t", 1,
					 &ctx, &r, &err),
			0);
	assert_int_equal(r->info.priority, 1);
	det_rule_free(r);
	/* an explicit priority wins */
	assert_int_equal(det_rule_parse(H "(classtype:web-application-attack; priority:4; sid:1;)",
					 "t", 1, &ctx, &r, &err),
			0);
	assert_int_equal(r->info.priority, 4);
	det_rule_free(r);
	assert_int_equal(det_rule_parse(H "(classtype:nope; sid:1;)", "t", 1, &ctx, &r, &err),
			-EINVAL);
	assert_int_equal(err.reason, DET_R_UNKNOWN_CLASSTYPE);
	det_classes_free(&cl);
	vg_diag_free(&d);
}

static void
test_ip_sets(void **state)
{
	struct {
		const char *expr;
		const char *in;
		const char *out;
	} cases[] = {
		{ "[10.0.0.0/8,!10.1.0.0/16]", "10.2.0.1", "10.1.2.3" },
		{ "![1.2.3.4]", "1.2.3.5", "1.2.3.4" },
		{ "!$HOME_NET", "8.8.8.8", "192.168.1.1" },
		{ "1.2.3.4-1.2.3.10", "1.2.3.10", "1.2.3.11" },
		{ "10.0.0.0/255.0.0.0", "10.255.255.255", "11.0.0.0" },
		{ "[!10.0.0.0/8,!172.16.0.0/12]", "172.32.0.1", "172.31.255.255" },
		{ "[$HOME_NET,![10.0.0.0/24,!10.0.0.5]]", "10.0.0.5", "10.0.0.6" },
		{ "2001:db8::/32", "2001:db8:ffff::1", "2001:db9::1" },
		{ "[::1,10.0.0.1]", "::1", "::2" },
		{ "2001:db8::1-2001:db8::3", "2001:db8::3", "2001:db8::4" },
		{ "any", "255.255.255.255", NULL },
		{ "0.0.0.0/0", "1.1.1.1", "::1" },
		{ "10.1.2.3/8", "10.255.0.1",
				"11.0.0.0" }, /* host bits are ignored, as Suricata does */
		{ "fe80::1/64", "fe80::ffff", "fe81::" },
	};
	const char *bad[] = { "", "[]", "[1.1.1.1", "1.1.1.1]", "1.1.1.1/33", "1.1.1.1/255.0.255.0",
		"::1/129", "1.1.1.10-1.1.1.1", "[1.1.1.1,,2.2.2.2]", "!any", "host", "$",
		"[!any]" };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct det_ipset s;
		char err[256];
		uint8_t a[16] = { 0 };
		int fam;

		if (det_ipset_parse(&s, cases[i].expr, vars, err, sizeof(err), NULL, NULL) != 0)
			fail_msg("%s: %s", cases[i].expr, err);
		fam = strchr(cases[i].in, ':') ? 6 : 4;
		assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, cases[i].in, a), 1);
		if (!det_ipset_has(&s, (uint8_t)fam, a))
			fail_msg("%s should hold %s", cases[i].expr, cases[i].in);
		if (cases[i].out != NULL) {
			memset(a, 0, sizeof(a));
			fam = strchr(cases[i].out, ':') ? 6 : 4;
			assert_int_equal(inet_pton(fam == 4 ? AF_INET : AF_INET6, cases[i].out, a),
					1);
			if (det_ipset_has(&s, (uint8_t)fam, a))
				fail_msg("%s should not hold %s", cases[i].expr, cases[i].out);
		}
		det_ipset_free(&s);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct det_ipset s;
		char err[256];

		if (det_ipset_parse(&s, bad[i], vars, err, sizeof(err), NULL, NULL) == 0)
			fail_msg("'%s' parsed", bad[i]);
	}
}

static void
test_port_sets(void **state)
{
	struct det_portset s;
	char err[256];
	unsigned off = 99;
	const char *bad[] = { "", "[]", "80:70", "abc", "65536", "[1,", ":", "!any", "-1" };

	(void)state;
	assert_int_equal(det_portset_parse(
					 &s, "[1:80,!22,$WEB]", vars, err, sizeof(err), NULL, NULL),
			0);
	assert_true(det_portset_has(&s, 1));
	assert_true(det_portset_has(&s, 80));
	assert_false(det_portset_has(&s, 22));
	assert_true(det_portset_has(&s, 8099));
	assert_false(det_portset_has(&s, 81));
	assert_int_equal(det_portset_count(&s), 79 + 1 + 100);
	det_portset_free(&s);
	assert_int_equal(det_portset_parse(&s, ":1023", vars, err, sizeof(err), NULL, NULL), 0);
	assert_true(det_portset_has(&s, 0));
	assert_false(det_portset_has(&s, 1024));
	det_portset_free(&s);
	assert_int_equal(det_portset_parse(&s, "!$HTTP_PORTS", vars, err, sizeof(err), NULL, NULL),
			0);
	assert_false(det_portset_has(&s, 80));
	assert_true(det_portset_has(&s, 8080));
	det_portset_free(&s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (det_portset_parse(&s, bad[i], vars, err, sizeof(err), NULL, NULL) == 0)
			fail_msg("'%s' parsed", bad[i]);
	/* the offset points into the expression */
	assert_int_equal(det_portset_parse(&s, "[80, 443, 99999]", vars, err, sizeof(err), &off,
					 NULL),
			-EINVAL);
	assert_int_equal(off, 10);
}

static void
test_vars(void **state)
{
	struct det_vars *v = det_vars_create();
	char err[256];

	(void)state;
	assert_int_equal(det_vars_set_addr(v, "bad name", "1.1.1.1"), -EINVAL);
	assert_int_equal(det_vars_set_addr(v, "X", ""), -EINVAL);
	assert_int_equal(det_vars_set_addr(v, "HOME_NET", "10.0.0.0/8"), 0);
	assert_int_equal(det_vars_set_defaults(v), 0);
	/* defaults do not override */
	assert_string_equal(det_vars_get_addr(v, "HOME_NET"), "10.0.0.0/8");
	assert_string_equal(det_vars_get_addr(v, "EXTERNAL_NET"), "!$HOME_NET");
	assert_string_equal(det_vars_get_port(v, "HTTP_PORTS"), "80");
	assert_null(det_vars_get_port(v, "HOME_NET"));
	assert_int_equal(det_vars_check(v, err, sizeof(err)), 0);
	assert_int_equal(det_vars_set_port(v, "BROKEN", "[1,x]"), 0);
	assert_int_equal(det_vars_check(v, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "BROKEN"));
	det_vars_free(v);
	det_vars_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_valid),
		cmocka_unit_test(test_header_invalid),
		cmocka_unit_test(test_options_valid),
		cmocka_unit_test(test_options_invalid),
		cmocka_unit_test(test_sid_in_errors),
		cmocka_unit_test(test_classification),
		cmocka_unit_test(test_ip_sets),
		cmocka_unit_test(test_port_sets),
		cmocka_unit_test(test_vars),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
