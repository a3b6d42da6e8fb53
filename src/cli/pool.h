/* pool.h - the host's workers for the core's ModelParallel: persistent threads, released per call with low latency.
 * Host only (pthreads); the UEFI app brings its own workers (MP Services). */
#ifndef EFICHAT_POOL_H
#define EFICHAT_POOL_H

#include "model.h"

typedef struct Pool Pool;

#define POOL_MAX_PARTS 256u /* parts of one call (and threads of one pool) */

/* A pool of `threads` workers: the caller of pool_run is worker 0, threads - 1 are started here. NULL when a thread
 * cannot be started or memory is short (then run on one thread). */
Pool *pool_new(unsigned threads);
void pool_free(Pool *p);
/* ModelParallel.run: task(arg, w, n) once for every part w < n, each on whichever thread claims it first (the
 * caller claims too, so parts never wait for a thread the OS has not scheduled); returns when all returned.
 * ctx is the Pool; n up to POOL_MAX_PARTS (more run one after another on the caller). */
void pool_run(void *ctx, model_task task, void *arg, unsigned n);
/* ModelParallel.run_phases: the same for each phase in turn, in one call (the threads meet at a barrier between
 * phases instead of being called again); a thread waiting at one prefetches the next phase's input (in, if given). */
void pool_run_phases(void *ctx, model_phase_task task, void *arg, unsigned n, unsigned phases,
                     const ModelPhaseInputs *in);
/* The ModelParallel that runs on p (p NULL: one worker, everything on the caller). */
ModelParallel pool_parallel(Pool *p);

#endif
