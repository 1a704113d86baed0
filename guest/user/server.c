/*
 * A Redis-protocol (RESP2) key-value server on lwIP's raw TCP API, port 6379.
 *
 * One main loop on the BSP: poll the NIC (frames go through lwIP, whose
 * receive callbacks only append to a connection's input buffer), run every
 * complete command in every input buffer, commit the append-only log (write
 * + flush) if any command changed the data, only then hand the replies to
 * TCP, notify the NIC once, run lwIP's timers and a slice of the background
 * workload. When nothing happened for a while it sleeps until the NIC's
 * interrupt (or the next timer tick).
 */
#include "guest.h"
#include "kv.h"
#include "server.h"
#include "vnet.h"
#include "lwip/init.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/etharp.h"
#include "netif/ethernet.h"

#define PORT        6379
#define MAX_ARGS    65536
#define MAX_BULK    (4u << 20)      /* one argument */
#define MAX_INLINE  (64u << 10)     /* one inline command line */
#define MAX_PENDING_IN   (8u << 20)      /* unprocessed input of a connection */
#define OUT_PAUSE   (1u << 20)      /* stop running a connection's commands above this much unsent output */

struct conn {
	struct conn *next;
	struct tcp_pcb *pcb;
	struct buf in, out;
	size_t in_off, out_off;
	int input;                  /* new input to look at */
	int closing;                /* close once the output is sent; ignore further input */
	int eof;                    /* peer closed its side: close once the input is done */
	int dead;                   /* pcb gone (error/abort): free */
	uint64_t id;
};
static struct conn *conns;
static uint64_t nconns, conn_ids, total_cmds, proto_errors;
static struct arg argv_[MAX_ARGS];

int buf_put(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		size_t c = b->cap ? b->cap : 256;
		while (c < b->len + n)
			c *= 2;
		char *p = xrealloc(b->p, c);
		if (!p)
			return -1;
		b->p = p;
		b->cap = c;
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
	return 0;
}

/* ---- replies ---- */
static void r_raw(struct buf *o, const char *s, size_t n) { if (o) buf_put(o, s, n); }
static void r_ok(struct buf *o) { r_raw(o, "+OK\r\n", 5); }
static void r_hdr(struct buf *o, char c, int64_t v)
{
	char b[32];
	int n = snprintf(b, sizeof(b), "%c%ld\r\n", c, v);
	r_raw(o, b, (size_t)n);
}
static void r_int(struct buf *o, int64_t v) { r_hdr(o, ':', v); }
static void r_null(struct buf *o) { r_raw(o, "$-1\r\n", 5); }
static void r_bulk(struct buf *o, const char *p, size_t n)
{
	r_hdr(o, '$', (int64_t)n);
	r_raw(o, p, n);
	r_raw(o, "\r\n", 2);
}
static void r_err(struct buf *o, const char *fmt, ...)
{
	char b[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b, sizeof(b), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(b) - 1)
		n = sizeof(b) - 1;
	for (int i = 0; i < n; i++)          /* no line breaks inside an error */
		if (b[i] == '\r' || b[i] == '\n')
			b[i] = ' ';
	r_raw(o, "-", 1);
	r_raw(o, b, (size_t)n);
	r_raw(o, "\r\n", 2);
}
static const char *E_TYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
static const char *E_INT = "ERR value is not an integer or out of range";
static const char *E_OOM = "OOM command not allowed: out of memory";

/* ---- helpers ---- */
static int eq(const struct arg *a, const char *s)
{
	size_t n = strlen(s);
	if (a->n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = a->p[i];
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (c != s[i])
			return 0;
	}
	return 1;
}

/* strict decimal int64 like Redis' string2ll */
static int to_i64(const struct arg *a, int64_t *out)
{
	const char *p = a->p;
	size_t n = a->n, i = 0;
	int neg = 0;
	uint64_t v = 0;
	if (n == 0 || n > 20)
		return -1;
	if (p[0] == '-') {
		neg = 1;
		i = 1;
		if (n == 1)
			return -1;
	}
	if (p[i] == '0' && n > i + 1)
		return -1;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		uint64_t d = (uint64_t)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (neg) {
		if (v > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = (int64_t)(0 - v);
	} else {
		if (v > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)v;
	}
	return 0;
}

static void r_wrong_args(struct buf *o, const struct arg *name)
{
	r_err(o, "ERR wrong number of arguments for '%.*s' command", (int)(name->n > 64 ? 64 : name->n), name->p);
}

static int c_set(int argc, struct arg *a, struct buf *o)
{
	int nx = 0, xx = 0;
	for (int i = 3; i < argc; i++) {
		if (eq(&a[i], "NX"))
			nx = 1;
		else if (eq(&a[i], "XX"))
			xx = 1;
		else {
			r_err(o, "ERR syntax error");
			return -1;
		}
	}
	if (nx && xx) {
		r_err(o, "ERR syntax error");
		return -1;
	}
	struct ent *e = kv_find(a[1].p, a[1].n);
	if ((nx && e) || (xx && !e)) {
		r_null(o);
		return 0;
	}
	if (e && e->type != KV_STR) {
		kv_delete(e);
		e = 0;
	}
	if (!e && !(e = kv_create(a[1].p, a[1].n, KV_STR))) {
		r_err(o, "%s", E_OOM);
		return -1;
	}
	if (kv_set_str(e, a[2].p, a[2].n)) {
		kv_delete(e);
		r_err(o, "%s", E_OOM);
		return -1;
	}
	r_ok(o);
	return 1;
}

static int c_incrby(struct arg *key, int64_t by, struct buf *o)
{
	struct ent *e = kv_find(key->p, key->n);
	int64_t v = 0;
	if (e) {
		if (e->type != KV_STR) {
			r_err(o, "%s", E_TYPE);
			return -1;
		}
		struct arg cur = { e->s.v, e->s.vlen };
		if (to_i64(&cur, &v)) {
			r_err(o, "%s", E_INT);
			return -1;
		}
	}
	if ((by > 0 && v > INT64_MAX - by) || (by < 0 && v < INT64_MIN - by)) {
		r_err(o, "ERR increment or decrement would overflow");
		return -1;
	}
	v += by;
	char b[24];
	int n = snprintf(b, sizeof(b), "%ld", v);
	if ((!e && !(e = kv_create(key->p, key->n, KV_STR))) || kv_set_str(e, b, (size_t)n)) {
		r_err(o, "%s", E_OOM);
		return -1;
	}
	r_int(o, v);
	return 1;
}

static int c_push(int argc, struct arg *a, struct buf *o, int left)
{
	struct ent *e = kv_find(a[1].p, a[1].n);
	if (e && e->type != KV_LIST) {
		r_err(o, "%s", E_TYPE);
		return -1;
	}
	if (!e && !(e = kv_create(a[1].p, a[1].n, KV_LIST))) {
		r_err(o, "%s", E_OOM);
		return -1;
	}
	for (int i = 2; i < argc; i++) {
		struct lnode *l = xmalloc(sizeof(*l) + a[i].n);
		if (!l) {
			if (!e->l.len)
				kv_delete(e);
			r_err(o, "%s", E_OOM);
			return i > 2 ? 1 : -1;   /* partly applied: log what we have is not possible; see README */
		}
		l->len = (uint32_t)a[i].n;
		memcpy(l->data, a[i].p, a[i].n);
		if (left) {
			l->prev = 0;
			l->next = e->l.head;
			if (e->l.head)
				e->l.head->prev = l;
			else
				e->l.tail = l;
			e->l.head = l;
		} else {
			l->next = 0;
			l->prev = e->l.tail;
			if (e->l.tail)
				e->l.tail->next = l;
			else
				e->l.head = l;
			e->l.tail = l;
		}
		e->l.len++;
	}
	r_int(o, (int64_t)e->l.len);
	return 1;
}

static int c_pop(int argc, struct arg *a, struct buf *o, int left)
{
	int64_t count = 1;
	if (argc == 3 && (to_i64(&a[2], &count) || count < 0)) {
		r_err(o, "ERR value is out of range, must be positive");
		return -1;
	}
	struct ent *e = kv_find(a[1].p, a[1].n);
	if (!e) {
		r_raw(o, argc == 3 ? "*-1\r\n" : "$-1\r\n", 5);
		return 0;
	}
	if (e->type != KV_LIST) {
		r_err(o, "%s", E_TYPE);
		return -1;
	}
	if (argc == 3)
		r_hdr(o, '*', count < (int64_t)e->l.len ? count : (int64_t)e->l.len);
	int64_t done = 0;
	while (done < count && e->l.len) {
		struct lnode *l = left ? e->l.head : e->l.tail;
		if (left) {
			e->l.head = l->next;
			if (l->next)
				l->next->prev = 0;
			else
				e->l.tail = 0;
		} else {
			e->l.tail = l->prev;
			if (l->prev)
				l->prev->next = 0;
			else
				e->l.head = 0;
		}
		e->l.len--;
		r_bulk(o, l->data, l->len);
		xfree(l);
		done++;
	}
	if (!e->l.len)
		kv_delete(e);
	return done > 0;
}

static int c_lrange(struct arg *a, struct buf *o)
{
	int64_t s, t;
	if (to_i64(&a[2], &s) || to_i64(&a[3], &t)) {
		r_err(o, "%s", E_INT);
		return -1;
	}
	struct ent *e = kv_find(a[1].p, a[1].n);
	if (e && e->type != KV_LIST) {
		r_err(o, "%s", E_TYPE);
		return -1;
	}
	int64_t len = e ? (int64_t)e->l.len : 0;
	if (s < 0)
		s += len;
	if (t < 0)
		t += len;
	if (s < 0)
		s = 0;
	if (t >= len)
		t = len - 1;
	if (!e || s > t) {
		r_raw(o, "*0\r\n", 4);
		return 0;
	}
	r_hdr(o, '*', t - s + 1);
	struct lnode *l = e->l.head;
	for (int64_t i = 0; i < s; i++)
		l = l->next;
	for (int64_t i = s; i <= t; i++, l = l->next)
		r_bulk(o, l->data, l->len);
	return 0;
}

static int c_debug(int argc, struct arg *a, struct buf *o)
{
	/* DEBUG WORKLOAD cpu | mem <MiB/s> | off */
	if (argc >= 3 && eq(&a[1], "WORKLOAD")) {
		uint64_t rate = 0;
		int mode = -1;
		if (argc == 3 && eq(&a[2], "OFF"))
			mode = BG_OFF;
		else if (argc == 3 && eq(&a[2], "CPU"))
			mode = BG_CPU;
		else if (argc == 4 && eq(&a[2], "MEM") && !parse_u64(a[3].p, a[3].n, &rate))
			mode = BG_MEM;
		if (mode >= 0 && !bg_set(mode, rate)) {
			r_ok(o);
			return 0;
		}
		r_err(o, "ERR usage: DEBUG WORKLOAD cpu | mem <MiB/s, 0 = flat out> | off");
		return -1;
	}
	r_err(o, "ERR DEBUG subcommand not supported (only DEBUG WORKLOAD)");
	return -1;
}

static void c_info(struct buf *o)
{
	char b[1024];
	uint64_t t = clock_ns();
	int n = snprintf(b, sizeof(b),
		"# Server\r\nserver:jremus-guest\r\nredis_mode:standalone\r\nuptime_in_seconds:%lu\r\n"
		"# Clients\r\nconnected_clients:%lu\r\n"
		"# Memory\r\nused_memory:%lu\r\n"
		"# Persistence\r\naof_enabled:%d\r\naof_records:%lu\r\naof_bytes:%lu\r\naof_commits:%lu\r\n"
		"aof_commit_avg_us:%lu\r\n"
		"# Stats\r\ntotal_commands_processed:%lu\r\nprotocol_errors:%lu\r\n"
		"irqs:%lu\r\nirqs_isr0:%lu\r\nnet_rx_notifies:%lu\r\nnet_tx_notifies:%lu\r\nnet_tx_kicks_saved:%lu\r\n"
		"# Workload\r\nworkload:%s\r\nworkload_rate:%lu\r\nworkload_cpu:%ld\r\nworkload_done:%lu\r\n"
		"# Keyspace\r\ndb0:keys=%lu,expires=0\r\n",
		t / 1000000000, nconns, heap_inuse, aof_on, aof_records, aof_bytes, aof_commits,
		aof_commits ? aof_commit_ns / aof_commits / 1000 : 0, total_cmds, proto_errors,
		sys_kinfo()->irq_total, sys_kinfo()->irq_isr0, vnet_rxq.notifies, vnet_txq.notifies,
		vnet_txq.kicks_saved,
		bg_mode == BG_CPU ? "cpu" : bg_mode == BG_MEM ? "mem" : "off", bg_rate, bg_cpu, bg_done,
		kv_count);
	r_bulk(o, b, (size_t)n);
}

/* argc >= 1 */
int cmd_exec(int argc, struct arg *a, struct buf *o, int *quit)
{
	const struct arg *c = &a[0];
	total_cmds++;
#define ARGS(cond) do { if (!(cond)) { r_wrong_args(o, c); return -1; } } while (0)
	if (eq(c, "PING")) {
		ARGS(argc <= 2);
		if (argc == 2)
			r_bulk(o, a[1].p, a[1].n);
		else
			r_raw(o, "+PONG\r\n", 7);
		return 0;
	}
	if (eq(c, "ECHO")) {
		ARGS(argc == 2);
		r_bulk(o, a[1].p, a[1].n);
		return 0;
	}
	if (eq(c, "GET")) {
		ARGS(argc == 2);
		struct ent *e = kv_find(a[1].p, a[1].n);
		if (!e)
			r_null(o);
		else if (e->type != KV_STR)
			r_err(o, "%s", E_TYPE);
		else
			r_bulk(o, e->s.v, e->s.vlen);
		return 0;
	}
	if (eq(c, "SET")) {
		ARGS(argc >= 3);
		return c_set(argc, a, o);
	}
	if (eq(c, "INCR") || eq(c, "DECR")) {
		ARGS(argc == 2);
		return c_incrby(&a[1], eq(c, "INCR") ? 1 : -1, o);
	}
	if (eq(c, "INCRBY") || eq(c, "DECRBY")) {
		ARGS(argc == 3);
		int64_t by;
		if (to_i64(&a[2], &by) || (eq(c, "DECRBY") && by == INT64_MIN)) {
			r_err(o, "%s", E_INT);
			return -1;
		}
		return c_incrby(&a[1], eq(c, "INCRBY") ? by : -by, o);
	}
	if (eq(c, "DEL") || eq(c, "EXISTS")) {
		ARGS(argc >= 2);
		int del = eq(c, "DEL");
		int64_t n = 0;
		for (int i = 1; i < argc; i++) {
			struct ent *e = kv_find(a[i].p, a[i].n);
			if (e) {
				n++;
				if (del)
					kv_delete(e);
			}
		}
		r_int(o, n);
		return del && n > 0;
	}
	if (eq(c, "DBSIZE")) {
		ARGS(argc == 1);
		r_int(o, (int64_t)kv_count);
		return 0;
	}
	if (eq(c, "FLUSHALL") || eq(c, "FLUSHDB")) {
		ARGS(argc <= 2);
		if (argc == 2 && !eq(&a[1], "ASYNC") && !eq(&a[1], "SYNC")) {
			r_err(o, "ERR syntax error");
			return -1;
		}
		kv_flush();
		r_ok(o);
		return 1;
	}
	if (eq(c, "MSET")) {
		ARGS(argc >= 3 && argc % 2 == 1);
		for (int i = 1; i < argc; i += 2) {
			struct ent *e = kv_find(a[i].p, a[i].n);
			if (e && e->type != KV_STR) {
				kv_delete(e);
				e = 0;
			}
			if ((!e && !(e = kv_create(a[i].p, a[i].n, KV_STR))) || kv_set_str(e, a[i + 1].p, a[i + 1].n)) {
				r_err(o, "%s", E_OOM);
				return i > 1 ? 1 : -1;
			}
		}
		r_ok(o);
		return 1;
	}
	if (eq(c, "MGET")) {
		ARGS(argc >= 2);
		r_hdr(o, '*', argc - 1);
		for (int i = 1; i < argc; i++) {
			struct ent *e = kv_find(a[i].p, a[i].n);
			if (e && e->type == KV_STR)
				r_bulk(o, e->s.v, e->s.vlen);
			else
				r_null(o);
		}
		return 0;
	}
	if (eq(c, "LPUSH") || eq(c, "RPUSH")) {
		ARGS(argc >= 3);
		return c_push(argc, a, o, eq(c, "LPUSH"));
	}
	if (eq(c, "LPOP") || eq(c, "RPOP")) {
		ARGS(argc == 2 || argc == 3);
		return c_pop(argc, a, o, eq(c, "LPOP"));
	}
	if (eq(c, "LLEN")) {
		ARGS(argc == 2);
		struct ent *e = kv_find(a[1].p, a[1].n);
		if (e && e->type != KV_LIST)
			r_err(o, "%s", E_TYPE);
		else
			r_int(o, e ? (int64_t)e->l.len : 0);
		return 0;
	}
	if (eq(c, "LRANGE")) {
		ARGS(argc == 4);
		return c_lrange(a, o);
	}
	if (eq(c, "CONFIG")) {
		ARGS(argc >= 2);
		if (eq(&a[1], "GET")) {
			r_raw(o, "*0\r\n", 4);
			return 0;
		}
		r_err(o, "ERR CONFIG subcommand not supported (only CONFIG GET)");
		return -1;
	}
	if (eq(c, "COMMAND")) {
		r_raw(o, "*0\r\n", 4);
		return 0;
	}
	if (eq(c, "INFO")) {
		c_info(o);
		return 0;
	}
	if (eq(c, "SELECT")) {
		ARGS(argc == 2);
		if (a[1].n == 1 && a[1].p[0] == '0') {
			r_ok(o);
			return 0;
		}
		r_err(o, "ERR DB index is out of range");
		return -1;
	}
	if (eq(c, "QUIT")) {
		r_ok(o);
		*quit = 1;
		return 0;
	}
	if (eq(c, "DEBUG"))
		return c_debug(argc, a, o);
	r_err(o, "ERR unknown command '%.*s'", (int)(c->n > 64 ? 64 : c->n), c->p);
	return -1;
}

static int is_write_cmd(const struct arg *c)
{
	static const char *w[] = { "SET", "INCR", "DECR", "INCRBY", "DECRBY", "DEL", "FLUSHALL", "FLUSHDB",
				   "MSET", "LPUSH", "RPUSH", "LPOP", "RPOP", 0 };
	for (int i = 0; w[i]; i++)
		if (eq(c, w[i]))
			return 1;
	return 0;
}

/* ---- protocol parsing ---- */
/* a CRLF-terminated line from p (n bytes available): its length, or -1 incomplete */
static long line_len(const char *p, size_t n, size_t max)
{
	for (size_t i = 0; i + 1 < n && i <= max; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return (long)i;
	return -1;
}

static int parse_num_line(const char *p, long n, int64_t *v)
{
	struct arg a = { p, (size_t)n };
	return to_i64(&a, v);
}

/* 1 = a command in argv (*argc, *used bytes), 0 = need more input,
 * -1 = protocol error (message in err) */
static int parse(const char *p, size_t n, int *argc, size_t *used, const char **err)
{
	if (p[0] != '*') {
		/* inline command: a line of words separated by spaces */
		size_t i = 0;
		while (i < n && p[i] != '\n')
			i++;
		if (i == n) {
			if (n > MAX_INLINE) {
				*err = "Protocol error: too big inline request";
				return -1;
			}
			return 0;
		}
		*used = i + 1;
		size_t end = i > 0 && p[i - 1] == '\r' ? i - 1 : i;
		int c = 0;
		for (size_t j = 0; j < end;) {
			while (j < end && (p[j] == ' ' || p[j] == '\t'))
				j++;
			if (j == end)
				break;
			size_t s = j;
			while (j < end && p[j] != ' ' && p[j] != '\t')
				j++;
			if (c == MAX_ARGS) {
				*err = "Protocol error: too many arguments";
				return -1;
			}
			argv_[c].p = p + s;
			argv_[c].n = j - s;
			c++;
		}
		*argc = c;
		return 1;
	}
	long l = line_len(p, n, 32);
	if (l < 0) {
		if (n > 34) {
			*err = "Protocol error: invalid multibulk length";
			return -1;
		}
		return 0;
	}
	int64_t cnt;
	if (parse_num_line(p + 1, l - 1, &cnt) || cnt > MAX_ARGS) {
		*err = "Protocol error: invalid multibulk length";
		return -1;
	}
	size_t i = (size_t)l + 2;
	if (cnt <= 0) {
		*argc = 0;
		*used = i;
		return 1;
	}
	for (int64_t k = 0; k < cnt; k++) {
		if (i >= n)
			return 0;
		if (p[i] != '$') {
			*err = "Protocol error: expected '$'";
			return -1;
		}
		l = line_len(p + i, n - i, 32);
		if (l < 0) {
			if (n - i > 34) {
				*err = "Protocol error: invalid bulk length";
				return -1;
			}
			return 0;
		}
		int64_t len;
		if (parse_num_line(p + i + 1, l - 1, &len) || len < 0 || len > MAX_BULK) {
			*err = "Protocol error: invalid bulk length";
			return -1;
		}
		i += (size_t)l + 2;
		if (n - i < (size_t)len + 2)
			return 0;
		if (p[i + len] != '\r' || p[i + len + 1] != '\n') {
			*err = "Protocol error: bulk string not followed by CRLF";
			return -1;
		}
		argv_[k].p = p + i;
		argv_[k].n = (size_t)len;
		i += (size_t)len + 2;
	}
	*argc = (int)cnt;
	*used = i;
	return 1;
}

static void run_conn(struct conn *c)
{
	c->input = 0;
	while (!c->closing && c->in_off < c->in.len && c->out.len - c->out_off < OUT_PAUSE) {
		int argc, quit = 0;
		size_t used;
		const char *err = 0;
		int r = parse(c->in.p + c->in_off, c->in.len - c->in_off, &argc, &used, &err);
		if (r == 0)
			break;
		if (r < 0) {
			proto_errors++;
			r_err(&c->out, "ERR %s", err);
			c->closing = 1;
			break;
		}
		c->in_off += used;
		if (argc == 0)
			continue;
		if (aof_on && is_write_cmd(&argv_[0]) && !aof_room(argc, argv_)) {
			r_err(&c->out, "ERR append-only log full (or command too large for it)");
			continue;
		}
		if (cmd_exec(argc, argv_, &c->out, &quit) > 0 && aof_on)
			aof_append(argc, argv_);
		if (quit)
			c->closing = 1;
	}
	if (c->out.len - c->out_off >= OUT_PAUSE)
		c->input = 1;                     /* more to do once output drains */
	if (c->in_off == c->in.len) {
		c->in.len = c->in_off = 0;
		if (c->in.cap > (64u << 10)) {    /* give back a big buffer */
			xfree(c->in.p);
			c->in.p = 0;
			c->in.cap = 0;
		}
	} else if (c->in_off > (64u << 10)) {
		memmove(c->in.p, c->in.p + c->in_off, c->in.len - c->in_off);
		c->in.len -= c->in_off;
		c->in_off = 0;
	}
}

/* ---- lwIP callbacks ---- */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
	struct conn *c = arg;
	(void)err;
	if (!p) {                                 /* peer closed its side */
		c->eof = 1;
		c->input = 1;
		return ERR_OK;
	}
	if (!c->closing) {
		if (c->in.len - c->in_off + p->tot_len > MAX_PENDING_IN) {
			proto_errors++;
			r_err(&c->out, "ERR Protocol error: too much unprocessed input");
			c->closing = 1;
		} else {
			for (struct pbuf *q = p; q; q = q->next)
				if (buf_put(&c->in, q->payload, q->len)) {
					r_err(&c->out, "%s", E_OOM);
					c->closing = 1;
					break;
				}
		}
		c->input = 1;
	}
	tcp_recved(pcb, p->tot_len);
	pbuf_free(p);
	return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
	struct conn *c = arg;
	(void)err;
	c->pcb = 0;                               /* already freed by lwIP */
	c->dead = 1;
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
	(void)arg;
	if (err != ERR_OK || !pcb)
		return ERR_VAL;
	struct conn *c = xmalloc(sizeof(*c));
	if (!c) {
		tcp_abort(pcb);
		return ERR_ABRT;
	}
	memset(c, 0, sizeof(*c));
	c->pcb = pcb;
	c->id = ++conn_ids;
	c->next = conns;
	conns = c;
	nconns++;
	tcp_arg(pcb, c);
	tcp_recv(pcb, on_recv);
	tcp_err(pcb, on_err);
	tcp_nagle_disable(pcb);
	return ERR_OK;
}

/* hand as much output as TCP takes; 1 if something was queued */
static int send_out(struct conn *c)
{
	int any = 0;
	while (c->pcb && c->out_off < c->out.len) {
		size_t n = c->out.len - c->out_off;
		size_t room = tcp_sndbuf(c->pcb);
		if (room == 0 || tcp_sndqueuelen(c->pcb) >= TCP_SND_QUEUELEN - 2)
			break;
		if (n > room)
			n = room;
		if (n > 0xffff)
			n = 0xffff;
		if (tcp_write(c->pcb, c->out.p + c->out_off, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
			break;
		c->out_off += n;
		any = 1;
	}
	if (any)
		tcp_output(c->pcb);
	if (c->out_off == c->out.len) {
		c->out.len = c->out_off = 0;
		if (c->out.cap > (64u << 10)) {
			xfree(c->out.p);
			c->out.p = 0;
			c->out.cap = 0;
		}
	}
	return any;
}

static void conn_free(struct conn *c)
{
	struct conn **pp = &conns;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	xfree(c->in.p);
	xfree(c->out.p);
	xfree(c);
	nconns--;
}

/* ---- main loop ---- */
enum { POLL_IRQ, POLL_TICK, POLL_SPIN };
int net_poll_mode = POLL_IRQ;
uint64_t net_spin_us = 200;
const char *virtio_bad_mode;
int virtio_bad_blk;
uint64_t virtio_bad_ms = 1000;
uint32_t net_ip, net_mask, net_gw;           /* host order */
static int irq_routed;

static void make_ip(ip4_addr_t *a, uint32_t v)
{
	IP4_ADDR(a, v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255);
}

void work_redis(void)
{
	struct vdev *net = 0;
	for (int i = 0; i < nvdevs; i++)
		if (vdevs[i].device_id == 1 && !net)
			net = &vdevs[i];
	if (!net)
		fail(EXIT_BADCONF, "work=redis needs a virtio-net device");

	if (vblk_sectors) {
		char id[21];
		if (!vblk_get_id(id))
			printf("vblk: id=\"%s\"\n", id);
		aof_open();
	} else {
		printf("aof: no disk: no append-only log\n");
	}

	lwip_init();
	ip4_addr_t ip, mask, gw;
	make_ip(&ip, net_ip);
	make_ip(&mask, net_mask);
	make_ip(&gw, net_gw);
	if (!netif_add(&vnet_netif, &ip, &mask, &gw, 0, vnet_netif_init, ethernet_input))
		fail(EXIT_FAILED, "netif_add failed");
	netif_set_default(&vnet_netif);
	netif_set_up(&vnet_netif);
	netif_set_link_up(&vnet_netif);
	etharp_gratuitous(&vnet_netif);

	struct tcp_pcb *l = tcp_new();
	if (!l || tcp_bind(l, IP_ANY_TYPE, PORT) != ERR_OK || !(l = tcp_listen_with_backlog(l, 128)))
		fail(EXIT_FAILED, "cannot listen on port %d", PORT);
	tcp_accept(l, on_accept);

	if (net_poll_mode == POLL_IRQ) {
		if (syscall3(SYS_IRQ_ROUTE, net->irq, 0, (long)net->base))
			fail(EXIT_BADCONF, "cannot route GSI %u through the IOAPIC", net->irq);
		irq_routed = 1;
	}
	const uint8_t *mac = vnet_netif.hwaddr;
	printf("redis: listening on %u.%u.%u.%u:%d mac=%02x:%02x:%02x:%02x:%02x:%02x poll=%s keys=%lu aof=%s\n",
	       net_ip >> 24, (net_ip >> 16) & 255, (net_ip >> 8) & 255, net_ip & 255, PORT,
	       mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
	       net_poll_mode == POLL_IRQ ? "irq" : net_poll_mode == POLL_TICK ? "tick" : "spin",
	       kv_count, aof_on ? "on" : "off");

	const struct jg_kinfo *ki = sys_kinfo();
	uint64_t t_start = clock_ns(), last_busy = t_start;
	int bad_done = !virtio_bad_mode;
	for (;;) {
		int busy = vnet_poll();
		for (struct conn *c = conns; c; c = c->next)
			if (c->input && !c->dead)
				run_conn(c);
		if (aof_on && aof_pending())
			aof_commit();
		struct conn *nx;
		for (struct conn *c = conns; c; c = nx) {
			nx = c->next;
			if (c->dead) {
				conn_free(c);
				continue;
			}
			if (c->out_off < c->out.len)
				busy |= send_out(c);
			int done = c->closing || (c->eof && !c->input);
			if (done && c->out_off == c->out.len) {
				tcp_arg(c->pcb, 0);
				tcp_recv(c->pcb, 0);
				tcp_err(c->pcb, 0);
				if (tcp_close(c->pcb) != ERR_OK)
					tcp_abort(c->pcb);
				conn_free(c);
			}
		}
		vnet_flush();
		sys_check_timeouts();
		uint64_t now = clock_ns();
		if (!bad_done && now - t_start >= virtio_bad_ms * 1000000) {
			bad_done = 1;
			int r = virtio_bad_blk ? vblk_bad(virtio_bad_mode) : vnet_bad(virtio_bad_mode);
			printf("virtio_bad: handed the %s device a bad descriptor chain (mode %s)%s; continuing\n",
			       virtio_bad_blk ? "blk" : "net", virtio_bad_mode, r ? " FAILED to build it" : "");
		}
		if (bg_mode != BG_OFF && bg_cpu == 0)
			bg_slice();
		if (busy) {
			last_busy = now;
			continue;
		}
		if (net_poll_mode == POLL_SPIN || now - last_busy < net_spin_us * 1000 ||
		    (bg_mode != BG_OFF && bg_cpu == 0))
			continue;
		/* idle: sleep until the NIC interrupts (or the next tick) */
		if (net_poll_mode == POLL_IRQ) {
			uint64_t seen = ki->irq_total;
			vnet_irq(1);
			if (!vq_has_used(&vnet_rxq))
				syscall3(SYS_IRQ_WAIT, (long)seen, 0, 0);
			vnet_irq(0);
		} else {
			sys_wait();
		}
	}
}
