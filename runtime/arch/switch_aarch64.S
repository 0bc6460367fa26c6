/* switch_aarch64.S -- the context switch between processes and schedulers (AAPCS64). */
#if defined(__aarch64__) && !defined(TR_USE_UCONTEXT)
    .text
/* void tr__ctx_switch(void **save_sp, void *to_sp): see switch_x86_64.S. The frame is
 * 176 bytes: x19-x30 (x29 frame pointer, x30 return address), d8-d15, and FPCR. */
    .globl tr__ctx_switch
    .type tr__ctx_switch,%function
    .hidden tr__ctx_switch
tr__ctx_switch:
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    .globl tr__ctx_restore
    .hidden tr__ctx_restore
tr__ctx_restore:
    ldr x9, [sp, #160]
    msr fpcr, x9
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #176
    ret
    .size tr__ctx_switch, .-tr__ctx_switch

    .globl tr__proc_entry
    .type tr__proc_entry,%function
    .hidden tr__proc_entry
tr__proc_entry:
    mov x29, #0
    mov x30, #0
    bl tr__proc_main
    brk #0
    .size tr__proc_entry, .-tr__proc_entry
#endif
    .section .note.GNU-stack,"",%progbits
