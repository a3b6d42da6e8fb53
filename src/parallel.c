/* parallel.c - the core's side of ModelParallel (model.h): running a task's parts or phases on the platform's
 * workers, and the split of n items into parts of whole blocks. */
#include "model.h"

void model_parallel_run(const ModelParallel *p, model_task task, void *arg)
{
    if (p && p->run && p->workers > 1)
        p->run(p->ctx, task, arg, p->workers);
    else
        task(arg, 0, 1);
}

typedef struct {
    model_phase_task task;
    void *arg;
    unsigned phase;
} OnePhase;
static void one_phase(void *arg, unsigned w, unsigned nw)
{
    const OnePhase *o = arg;
    o->task(o->arg, o->phase, w, nw);
}

void model_parallel_phase(const ModelParallel *p, model_phase_task task, void *arg, unsigned phase)
{
    OnePhase o = {task, arg, phase};
    model_parallel_run(p, one_phase, &o);
}

void model_parallel_phases(const ModelParallel *p, model_phase_task task, void *arg, unsigned phases,
                           const ModelPhaseInputs *in)
{
    if (p && p->run && p->workers > 1 && p->run_phases) {
        p->run_phases(p->ctx, task, arg, p->workers, phases, in);
        return;
    }
    for (unsigned k = 0; k < phases; k++)
        model_parallel_phase(p, task, arg, k);
}

void model_share(unsigned w, unsigned nw, uint32_t n, uint32_t block, uint32_t *lo, uint32_t *hi)
{
    uint32_t blocks = (n + block - 1) / block;
    uint32_t b0 = (uint32_t)((uint64_t)blocks * w / nw), b1 = (uint32_t)((uint64_t)blocks * (w + 1) / nw);
    *lo = b0 * block < n ? b0 * block : n;
    *hi = b1 * block < n ? b1 * block : n;
}
