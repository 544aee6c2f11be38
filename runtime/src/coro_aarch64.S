/* Coroutine context switch for AArch64 (AAPCS64); see coro.c and
 * coro_x86_64.S for the contract.
 *
 * void ls__coro_switch(void **save_sp, void *load_sp)
 *   Saves the callee-saved registers (x19-x28, fp, lr, and d8-d15, the
 *   low halves of v8-v15 that AAPCS64 preserves) in a 160-byte frame on the
 *   current stack, stores sp in *save_sp, loads load_sp, restores the other
 *   side's frame and returns through its lr.
 *
 * ls__coro_trampoline
 *   The first lr of a new coroutine stack (coro.c lays it out): x19 holds
 *   the ls_coro pointer, sp is 16-byte aligned.
 */
#if defined(__aarch64__) && !defined(LS_SANITIZE)
        .text
        .globl  ls__coro_switch
        .hidden ls__coro_switch
        .type   ls__coro_switch, %function
        .p2align 4
ls__coro_switch:
        sub     sp, sp, #160
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        add     sp, sp, #160
        ret
        .size   ls__coro_switch, .-ls__coro_switch

        .globl  ls__coro_trampoline
        .hidden ls__coro_trampoline
        .type   ls__coro_trampoline, %function
        .p2align 4
ls__coro_trampoline:
        .cfi_startproc
        .cfi_undefined x30      /* outermost frame: debuggers stop here */
        mov     x29, #0
        mov     x0, x19
        bl      ls__coro_main   /* never returns */
        brk     #0
        .cfi_endproc
        .size   ls__coro_trampoline, .-ls__coro_trampoline
#endif
        .section .note.GNU-stack,"",%progbits
