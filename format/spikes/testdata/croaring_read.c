// croaring_read reads an evsnn spike recording with CRoaring, knowing only
// the file format of package format/spikes (doc.go), and prints every
// index entry and the ids of its bitmap:
//
//   image layer first_step steps spikes: id id id ...
//
// It checks what a reader should (magic, version, footer, index bounds,
// CRC-32 of every bitmap, that each bitmap is exactly its length of
// portable serialization and holds the indexed number of ids) and exits
// with status 1 and a message on stderr at the first problem. The test
// TestCRoaring compiles it with `cc croaring_read.c -lroaring`.
#include <roaring/roaring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32_ieee(const unsigned char *p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// Little-endian reads, whatever the host's byte order.
static uint32_t u32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t u64(const unsigned char *p) { return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32; }

static void die(const char *path, const char *msg, unsigned long long v) {
  fprintf(stderr, "croaring_read: %s: %s (%llu)\n", path, msg, v);
  exit(1);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: croaring_read FILE\n");
    return 2;
  }
  const char *path = argv[1];
  FILE *f = fopen(path, "rb");
  if (!f) die(path, "cannot open", 0);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(size > 0 ? (size_t)size : 1);
  if (!b || fread(b, 1, (size_t)size, f) != (size_t)size) die(path, "cannot read", (unsigned long long)size);
  fclose(f);
  crc_init();

  if (size < 48) die(path, "too short", (unsigned long long)size);
  if (memcmp(b, "EVSNNSPK", 8) != 0) die(path, "bad magic", 0);
  if (u32(b + 8) != 1) die(path, "unknown version", u32(b + 8));
  uint64_t hlen = u32(b + 12);
  const unsigned char *ft = b + size - 32;
  if (memcmp(ft + 24, "EVSPKEND", 8) != 0) die(path, "no end marker", 0);
  uint64_t index_off = u64(ft), entries = u64(ft + 8);
  if (index_off < 16 + hlen || index_off + entries * 48 != (uint64_t)size - 32) die(path, "bad index bounds", index_off);
  if (crc32_ieee(b + index_off, entries * 48) != u32(ft + 16)) die(path, "index CRC mismatch", 0);
  if (crc32_ieee(b + 16, hlen) != u32(ft + 20)) die(path, "header CRC mismatch", 0);

  for (uint64_t e = 0; e < entries; e++) {
    const unsigned char *p = b + index_off + 48 * e;
    uint32_t image = u32(p), layer = u32(p + 4), first = u32(p + 8), steps = u32(p + 12);
    uint64_t off = u64(p + 16), len = u64(p + 24), spikes = u64(p + 32);
    if (off < 16 + hlen || off + len > index_off) die(path, "bitmap out of bounds", e);
    if (crc32_ieee(b + off, len) != u32(p + 40)) die(path, "bitmap CRC mismatch", e);
    const char *blob = (const char *)(b + off);
    if (roaring_bitmap_portable_deserialize_size(blob, len) != len) die(path, "bitmap length differs from its serialization", e);
    roaring_bitmap_t *bm = roaring_bitmap_portable_deserialize_safe(blob, len);
    if (!bm) die(path, "CRoaring cannot read bitmap", e);
    uint64_t card = roaring_bitmap_get_cardinality(bm);
    if (card != spikes) die(path, "cardinality differs from the index", e);
    printf("%u %u %u %u %llu:", image, layer, first, steps, (unsigned long long)card);
    // roaring_bitmap_to_uint32_array is in every CRoaring version (the
    // iterator functions were renamed in 1.0).
    uint32_t *ids = malloc(card > 0 ? card * sizeof(uint32_t) : 1);
    if (!ids) die(path, "out of memory", card);
    roaring_bitmap_to_uint32_array(bm, ids);
    for (uint64_t i = 0; i < card; i++) printf(" %u", ids[i]);
    printf("\n");
    free(ids);
    roaring_bitmap_free(bm);
  }
  free(b);
  return 0;
}
