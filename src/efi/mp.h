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
    /* the handshake (written by the BSP before gen moves) */
    volatile uint64_t gen;
    volatile uint32_t done, park;
    /* claimed[i][0]: the last call (gen) whose part i + 1 someone claimed, the AP it belongs to or the BSP; one
     * cache line each */
    volatile uint64_t claimed[MP_MAX_APS][8];
    model_task task;
    void *arg;
    unsigned n;
};

/* Finds up to max_workers - 1 enabled APs and test-starts them; returns the worker count (1: the BSP alone). */
unsigned mp_init(Mp *mp, unsigned max_workers);
/* Starts the APs' loops (before the model runs); 0 when one failed to start (then everything stays on the BSP). */
int mp_wake(Mp *mp);
/* Ends the APs' loops (before the app waits for keys). */
void mp_park(Mp *mp);
/* ModelParallel.run with ctx = the Mp. */
void mp_run(void *ctx, model_task task, void *arg, unsigned n);

#endif
