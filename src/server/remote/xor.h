/* xor.h: the chunk encoding of Prometheus' TSDB for float samples (XOR,
 * Gorilla compression with millisecond timestamps, as in Prometheus'
 * tsdb/chunkenc/xor.go) and the frame header of a streamed remote-read
 * response (uvarint length, CRC32 Castagnoli, as Prometheus'
 * storage/remote/chunked.go). */
#ifndef PVM_REMOTE_XOR_H
#define PVM_REMOTE_XOR_H

#include <stddef.h>
#include <stdint.h>

#include <pvm/arena.h>

#include "series.h"

/* Most samples in one chunk, as Prometheus cuts them. */
#define PVM_XOR_CHUNK_SAMPLES 120

/* Longest frame header: a 10-byte uvarint and the 4-byte checksum. */
#define PVM_FRAME_HEADER_MAX 14

/* Encodes n points (1 <= n <= 65535, strictly increasing timestamps)
 * as one XOR chunk in arena a; *len receives its size. NULL when out of
 * memory. */
uint8_t *pvm_xor_encode(pvm_arena *a, const pvm_point *p, size_t n,
                        size_t *len);

/* CRC32 with the Castagnoli polynomial (Go's crc32.Castagnoli). */
uint32_t pvm_crc32c(const void *data, size_t len);

/* Writes the header of a frame carrying len bytes of data into buf
 * (PVM_FRAME_HEADER_MAX bytes): the length as a uvarint, then the CRC32C
 * of data, big-endian. Returns the header's size. */
size_t pvm_frame_header(uint8_t *buf, const void *data, size_t len);

#endif
