/* SIGTERM, SIGINT and SIGHUP (Ctrl-C, scancel, a Slurm time limit, mpirun
 * forwarding them): the process ends at once with status 128 + signal and,
 * on the printing rank, one line on stderr saying where the work stopped
 * and how to continue it. Ending at once is safe: everything fleetsim
 * writes is either renamed into place when complete (checkpoints, results)
 * or cut back on --resume (the archive, contexts.jsonl, transcripts). */
#ifndef FLEETSIM_INTERRUPT_H
#define FLEETSIM_INTERRUPT_H
#include <stdint.h>

typedef enum { INTR_RUN, INTR_ESCALATE } intr_kind;

/* Installs the handlers. prints: this process prints the line (rank 0).
 * run: "fleetsim: SIGTERM: interrupted at 01:25:00 of the run; continue
 * with --resume (it starts again from the checkpoint at 01:00:00)";
 * escalate: "fleetsim: SIGINT: escalate interrupted; run the same command
 * again to continue (finished calls are kept and skipped)". */
void intr_install(intr_kind kind, int prints, int scrape_interval_s);

/* run: scrapes simulated so far (async-signal-safe to read). */
void intr_note_scrapes(int64_t done);

/* run: scrapes the last checkpoint covers; -1: this run keeps no
 * checkpoints (archive = 0 or restart_every_windows = 0). */
void intr_note_checkpoint(int64_t scrapes);

#endif
