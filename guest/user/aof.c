/*
 * Append-only log on the virtio-blk disk (format in guest/README.md).
 * Records are staged in memory while commands run; aof_commit() writes the
 * sectors they cover and then flushes the device, before any reply to them
 * is sent (like Redis' appendfsync always, with group commit per main-loop
 * pass). At boot the log is replayed up to the first record that is torn,
 * corrupt or from an older boot generation than the one before it.
 */
#include "guest.h"
#include "kv.h"
#include "server.h"
#include "vnet.h"

#define AOF_MAGIC   0x314f414au      /* "JAO1" little endian */
#define HDR         16
#define STAGE_CAP   (8u << 20)
#define MAX_PAYLOAD (6u << 20)

int aof_on;
uint64_t aof_records, aof_commits, aof_bytes, aof_commit_ns, aof_end, aof_gen;
static uint8_t *stage;               /* bytes from sector stage_sector on */
static uint64_t stage_sector;
static size_t stage_len;             /* valid bytes in stage */
static size_t stage_clean;           /* bytes at the start already on disk (partial sector) */
static uint64_t cap_bytes;
static uint32_t crctab[256];

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;   /* CRC-32C (Castagnoli) */
		crctab[i] = c;
	}
}
static uint32_t crc32c(uint32_t c, const uint8_t *p, size_t n)
{
	c = ~c;
	while (n--)
		c = crctab[(c ^ *p++) & 0xff] ^ (c >> 8);
	return ~c;
}

/* ---- replay ---- */
static uint8_t *win;                 /* read window over the disk */
static uint64_t win_off, win_len;
#define WIN_CAP (8u << 20)

static int disk_bytes(uint64_t off, size_t n, uint8_t **out)
{
	if (off + n > cap_bytes)
		return -1;
	if (off < win_off || off + n > win_off + win_len) {
		uint64_t s = off / 512;
		uint64_t len = WIN_CAP;
		if (s * 512 + len > cap_bytes)
			len = cap_bytes - s * 512;
		if (vblk_rw(0, s, win, (uint32_t)len))
			return -2;
		win_off = s * 512;
		win_len = len;
		if (off + n > win_off + win_len)
			return -1;
	}
	*out = win + (off - win_off);
	return 0;
}

static int rd32(const uint8_t *p, uint32_t *v)
{
	memcpy(v, p, 4);
	return 0;
}

/* parse a payload (RESP array of bulk strings) into argv */
static int payload_args(const uint8_t *p, size_t n, struct arg *argv, int max)
{
	size_t i = 0;
	uint64_t cnt = 0, len;
	if (n < 4 || p[i++] != '*')
		return -1;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		cnt = cnt * 10 + (uint64_t)(p[i++] - '0');
	if (i + 2 > n || p[i] != '\r' || p[i + 1] != '\n' || cnt == 0 || cnt > (uint64_t)max)
		return -1;
	i += 2;
	for (uint64_t a = 0; a < cnt; a++) {
		if (i >= n || p[i++] != '$')
			return -1;
		len = 0;
		while (i < n && p[i] >= '0' && p[i] <= '9' && len < n)
			len = len * 10 + (uint64_t)(p[i++] - '0');
		if (i + 2 > n || p[i] != '\r' || p[i + 1] != '\n' || len > n)
			return -1;
		i += 2;
		if (i + len + 2 > n)
			return -1;
		argv[a].p = (const char *)p + i;
		argv[a].n = len;
		i += len + 2;
	}
	return i == n ? (int)cnt : -1;
}

#define MAX_ARGS 65536
static struct arg rargv[MAX_ARGS];

int aof_open(void)
{
	if (!vblk_sectors)
		return -1;
	crc_init();
	cap_bytes = vblk_sectors * 512;
	win = xmalloc(WIN_CAP);
	stage = xmalloc(STAGE_CAP + 512);
	if (!win || !stage) {
		printf("aof: no memory for buffers\n");
		return -1;
	}
	uint64_t off = 0, n = 0, t0 = clock_ns();
	uint32_t last_gen = 0;
	const char *why = "end";
	for (;;) {
		uint8_t *h, *p;
		uint32_t magic, len, gen, crc;
		int r = disk_bytes(off, HDR, &h);
		if (r) {
			why = r == -2 ? "read error" : "end of disk";
			break;
		}
		rd32(h, &magic);
		rd32(h + 4, &len);
		rd32(h + 8, &gen);
		rd32(h + 12, &crc);
		if (magic != AOF_MAGIC) {
			why = magic ? "bad magic" : "end";
			break;
		}
		if (len > MAX_PAYLOAD || gen < last_gen) {
			why = len > MAX_PAYLOAD ? "bad length" : "older generation";
			break;
		}
		uint8_t hcopy[12];
		memcpy(hcopy, h, 12);
		if (disk_bytes(off + HDR, len, &p)) {
			why = "torn (past the end)";
			break;
		}
		if (crc32c(crc32c(0, hcopy, 12), p, len) != crc) {
			why = "checksum mismatch (torn write)";
			break;
		}
		int argc = payload_args(p, len, rargv, MAX_ARGS);
		if (argc <= 0) {
			why = "unparsable record";
			break;
		}
		int quit;
		cmd_exec(argc, rargv, 0, &quit);
		last_gen = gen;
		off += HDR + len;
		n++;
	}
	aof_gen = last_gen + 1;
	aof_end = off;
	printf("aof: replayed %lu records, %lu bytes in %lu ms (stopped: %s); keys=%lu generation=%lu\n",
	       n, off, (clock_ns() - t0) / 1000000, why, kv_count, aof_gen);
	xfree(win);
	win = 0;
	/* stage the partial last sector so appends rewrite it whole */
	stage_sector = off / 512;
	stage_len = stage_clean = off % 512;
	if (stage_len && vblk_rw(0, stage_sector, stage, 512)) {
		printf("aof: cannot read the last sector\n");
		return -1;
	}
	aof_on = !vblk_ro;
	if (vblk_ro)
		printf("aof: disk is read-only: log disabled\n");
	return aof_on ? 0 : -1;
}

static size_t record_size(int argc, struct arg *argv)
{
	size_t n = 1 + 20 + 2;
	for (int i = 0; i < argc; i++)
		n += 1 + 20 + 2 + argv[i].n + 2;
	return n;
}

int aof_room(int argc, struct arg *argv)
{
	size_t n = record_size(argc, argv);
	return n <= MAX_PAYLOAD && aof_end + HDR + n + 512 <= cap_bytes;
}

int aof_pending(void)
{
	return stage_len > stage_clean;
}

/* write the staged sectors (without flushing); keep the partial tail */
static int stage_out(void)
{
	if (stage_len <= stage_clean)
		return 0;
	size_t sectors = (stage_len + 511) / 512;
	memset(stage + stage_len, 0, sectors * 512 - stage_len);
	if (vblk_rw(1, stage_sector, stage, (uint32_t)(sectors * 512)))
		return -1;
	size_t full = stage_len / 512;
	size_t tail = stage_len % 512;
	if (full) {
		memmove(stage, stage + full * 512, tail);
		stage_sector += full;
	}
	stage_len = stage_clean = tail;
	return 0;
}

static void put(const void *d, size_t n)
{
	memcpy(stage + stage_len, d, n);
	stage_len += n;
}
static void put_hdr(char c, uint64_t v)
{
	char b[24];
	int n = snprintf(b, sizeof(b), "%c%lu\r\n", c, v);
	put(b, (size_t)n);
}

int aof_append(int argc, struct arg *argv)
{
	if (!aof_on)
		return 0;
	size_t n = record_size(argc, argv);
	if (n > MAX_PAYLOAD || aof_end + HDR + n > cap_bytes)
		return -1;
	if (stage_len + HDR + n > STAGE_CAP && stage_out())
		return -1;
	size_t at = stage_len;
	stage_len += HDR;
	put_hdr('*', (uint64_t)argc);
	for (int i = 0; i < argc; i++) {
		put_hdr('$', argv[i].n);
		put(argv[i].p, argv[i].n);
		put("\r\n", 2);
	}
	uint32_t len = (uint32_t)(stage_len - at - HDR), magic = AOF_MAGIC, gen = (uint32_t)aof_gen;
	uint8_t *h = stage + at;
	memcpy(h, &magic, 4);
	memcpy(h + 4, &len, 4);
	memcpy(h + 8, &gen, 4);
	uint32_t crc = crc32c(crc32c(0, h, 12), h + HDR, len);
	memcpy(h + 12, &crc, 4);
	aof_end += HDR + len;
	aof_bytes += HDR + len;
	aof_records++;
	return 0;
}

int aof_commit(void)
{
	if (!aof_pending())
		return 0;
	uint64_t t0 = clock_ns();
	if (stage_out() || vblk_flush()) {
		printf("aof: disk write/flush failed: log disabled\n");
		aof_on = 0;
		return -1;
	}
	aof_commits++;
	aof_commit_ns += clock_ns() - t0;
	return 0;
}
