/* switch_x86_64.S -- the context switch between processes and schedulers (System V). */
#if defined(__x86_64__) && !defined(TR_USE_UCONTEXT)
    .text
/* void tr__ctx_switch(void **save_sp, void *to_sp)
 * Saves the callee-saved registers and the SSE/x87 control words on the current
 * stack, stores the stack pointer in *save_sp, and resumes the context whose stack
 * pointer is to_sp (made by an earlier switch, or by tr__stack_switch_in for a new
 * process, which lays out the same frame with tr__proc_entry as return address). */
    .globl tr__ctx_switch
    .type tr__ctx_switch,@function
    .hidden tr__ctx_switch
tr__ctx_switch:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movq %rsi, %rsp
/* tr__ctx_restore: resume the context saved at %rsp (used by crash.c to leave a
 * signal handler straight into the scheduler). */
    .globl tr__ctx_restore
    .hidden tr__ctx_restore
tr__ctx_restore:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size tr__ctx_switch, .-tr__ctx_switch

/* First instruction of a new process: align the stack as a call would, and run it. */
    .globl tr__proc_entry
    .type tr__proc_entry,@function
    .hidden tr__proc_entry
tr__proc_entry:
    .cfi_startproc
    .cfi_undefined rip
    xorl %ebp, %ebp
    andq $-16, %rsp
    call tr__proc_main
    ud2
    .cfi_endproc
    .size tr__proc_entry, .-tr__proc_entry
#endif
    .section .note.GNU-stack,"",@progbits
