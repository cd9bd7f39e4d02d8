/* Fixed-size per-node state records for restart checkpoints: the one helper
 * the modules' walkers (tel_node_walk, det_node_walk) use to copy a field
 * into or out of a record, or only to count its bytes. No I/O. */
#ifndef FLEETSIM_STATE_RECORD_H
#define FLEETSIM_STATE_RECORD_H
#include <stddef.h>
#include <string.h>

/* Field p of n bytes at offset *bytes of rec: copied to rec when save, from
 * rec otherwise, skipped when rec is NULL (sizing); *bytes advances by n. */
static inline void state_record_item(unsigned char *rec, size_t *bytes, void *p, size_t n,
                                     int save) {
  if (rec && save)
    memcpy(rec + *bytes, p, n);
  else if (rec)
    memcpy(p, rec + *bytes, n);
  *bytes += n;
}

#endif
