/**
 * The replication stream of docs/stream-format.md: {@link io.jremus.replication.stream.RecordType}
 * mirrors its record table, {@link io.jremus.replication.stream.RecordWriter} writes it and
 * {@link io.jremus.replication.stream.RecordReader} reads it as untrusted input. Page encodings are
 * in {@code stream.page}, TLS in {@code stream.tls}.
 *
 * <pre>
 *  primary                                              backup
 *    │── STREAM HEADER (session, start epoch E, layout) ──►│ checks magic, version, digest, layout
 *    │◄──────────────────────────── BACK HEADER (session) ─│
 *    │── PRECOPY_ROUND 0, PAGE_DATA…, DISK_WRITE… ────────►│ seed, guest running
 *    │── PRECOPY_ROUND 1, PAGE_DATA… ─────────────────────►│
 *    │── CHECKPOINT_BEGIN(E) … CHECKPOINT_END(E) ─────────►│ stage, validate, apply at END
 *    │◄──────────────────────────────────────────── ACK(E) ─│ first committed image
 *    │── CHECKPOINT_BEGIN(E+1) … CHECKPOINT_END(E+1) ─────►│
 *    │◄────────────────────────────────────────── ACK(E+1) ─│ primary releases epoch E+1's output
 *    │◄──────────────────── HEARTBEAT (both ways, any time) ─│
 * </pre>
 *
 * A refused record ({@link io.jremus.replication.stream.StreamException}) or a cut connection
 * discards the open epoch; the committed image stays (design invariants 2 and 6).
 */
package io.jremus.replication.stream;
