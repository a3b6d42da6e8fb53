/* mp.h - the model's work on every core through EFI_MP_SERVICES_PROTOCOL (mp.c has the rules for AP code).
 * gnu-efi does not declare the protocol; the declarations below follow the PI specification, volume 2. */
#ifndef EFICHAT_MP_H
#define EFICHAT_MP_H

#include "efisys.h"
#include "../model.h"
#include "../chat/fmt.h"

typedef struct {
    UINT64 ProcessorId;
    UINT32 StatusFlag; /* bit 0: the BSP, bit 1: enabled, bit 2: healthy */
    UINT32 Package, Core, Thread;
    UINT32 Extended[6]; /* PI 1.7 adds a second location; room for firmware that writes it */
} MP_PROCESSOR_INFO;

typedef struct MpServices MpServices;
typedef VOID(EFIAPI *MP_AP_PROCEDURE)(VOID *arg);
struct MpServices {
    EFI_STATUS(EFIAPI *GetNumberOfProcessors)(MpServices *self, UINTN *total, UINTN *enabled);
    EFI_STATUS(EFIAPI *GetProcessorInfo)(MpServices *self, UINTN number, MP_PROCESSOR_INFO *info);
    EFI_STATUS(EFIAPI *StartupAllAPs)(MpServices *self, MP_AP_PROCEDURE proc, BOOLEAN single_thread,
                                      EFI_EVENT wait_event, UINTN timeout_us, VOID *arg, UINTN **failed);
    EFI_STATUS(EFIAPI *StartupThisAP)(MpServices *self, MP_AP_PROCEDURE proc, UINTN number, EFI_EVENT wait_event,
                                      UINTN timeout_us, VOID *arg, BOOLEAN *finished);
    /* SwitchBSP, EnableDisableAP, WhoAmI follow; never used */
};

extern EFI_GUID mp_services_guid;

#define MP_MAX_APS 63

typedef struct Mp Mp;
typedef struct {
    Mp *mp;
    UINTN number;      /* the firmware's processor number */
    unsigned worker;   /* the part of each step it runs, 1.. */
    EFI_EVENT finished; /* signalled by the firmware when its procedure returned */
    int started;
    volatile int alive; /* set by the AP once it runs */
} MpSlot;

struct Mp {
    MpServices *proto;  /* NULL: no MP Services (U-Boot, or cores=1) */
    MpSlot slots[MP_MAX_APS];
    unsigned n_slots;   /* APs in use */
    unsigned workers;   /* n_slots + 1 after mp_init */
    uint64_t xcr0;      /* the BSP's XCR0, set on every AP (0: AVX state off) */
    int running;        /* the APs spin in mp_ap_main */
    int failed;         /* an AP did not start: everything runs on the BSP */
    /* the handshake: the BSP writes task, phase_task and arg, then the call word (generation << 16 | phases - 1) */
    volatile uint64_t call;
    volatile uint32_t park;
    /* part i's slot, the BSP's being 0: the stamp (call and phase) that last claimed it, the one that last finished
     * it; each word on a cache line of its own */
    struct {
        volatile uint64_t claimed, pad0[7];
        volatile uint64_t done, pad1[7];
    } part[MP_MAX_APS + 1] __attribute__((aligned(64)));
    model_task task;             /* a one-phase call (mp_run), else NULL */
    model_phase_task phase_task; /* a call in phases (mp_run_phases) */
    void *arg;
    ModelPhaseInputs in;         /* beside phase_task (period 0: none): what a core waiting at a barrier asks for */
    uint64_t gen;                /* the BSP's call counter */
    unsigned n;
};

/* Finds up to max_workers - 1 enabled APs and test-starts them; returns the worker count (1: the BSP alone). */
unsigned mp_init(Mp *mp, unsigned max_workers);
/* Starts the APs' loops (before the model runs); 0 when one failed to start (then everything stays on the BSP). */
int mp_wake(Mp *mp);
/* Ends the APs' loops (before the app waits for keys). */
void mp_park(Mp *mp);
/* ModelParallel.run and run_phases with ctx = the Mp. */
void mp_run(void *ctx, model_task task, void *arg, unsigned n);
void mp_run_phases(void *ctx, model_phase_task task, void *arg, unsigned n, unsigned phases,
                   const ModelPhaseInputs *in);

#endif
