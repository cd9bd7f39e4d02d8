/* The registry described for people (`fleetsim scenarios --kinds`): every
 * kind's keys, targets and typed magnitudes, printed from the kinds' own
 * tables so the reference cannot drift from what the parser accepts. */
#include <stdlib.h>

#include "scenarios/kinds/kind.h"
#include "src/core/strbuf.h"

char *scn_kinds_markdown(const unsigned char *sel) {
  static const char *const target_range[] = {
      [SCN_TARGET_RACKS] = "array of rack indexes",
      [SCN_TARGET_HOT_GPUS] = "array of GPU indexes 0-7",
      [SCN_TARGET_JOB] = "a job id of the config",
  };
  strbuf b = {0};
  sb_addf(&b, "Every scenario has `id`, `kind`, `start_h` and `duration_min`; the keys of "
              "each kind follow. Targets left out are chosen from the seed; magnitudes left "
              "out take their default.\n");
  for (int k = 0; k < SK_COUNT; k++) {
    const scn_kind_ops *ops = scn_kind_ops_of((scn_kind)k);
    if (sel && !sel[k])
      continue;
    sb_addf(&b,
            "\n### %s\n\n| key | default | range | units | what it sets |\n"
            "|---|---|---|---|---|\n",
            scn_kind_name((scn_kind)k));
    for (int i = 0; i < ops->ntargets; i++)
      sb_addf(&b, "| `%s` | - | %s | | %s |\n", ops->targets[i].key,
              target_range[ops->targets[i].type], ops->targets[i].help);
    for (int i = 0; i < ops->nmagnitudes; i++) {
      const scn_magnitude *m = &ops->magnitudes[i];
      sb_addf(&b, "| `%s` | %.10g | %.10g to %.10g%s | %s | %s |\n", m->name, m->def, m->min,
              m->max, m->integer ? ", whole" : "", m->units, m->help);
    }
  }
  return sb_take(&b);
}
