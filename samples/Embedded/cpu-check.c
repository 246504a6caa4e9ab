/* Linked into the NativeAOT binary only (Embedded.csproj). The binary is compiled for x86-64-v3 or x86-64-v4
   (X86_64_LEVEL): on an older CPU the .NET runtime would stop with a message that names no instruction set. This
   constructor runs before the runtime starts, names what the CPU lacks in one line, and exits with code 3. */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef X86_64_LEVEL
#define X86_64_LEVEL 4
#endif

static unsigned long long xcr0(void)
{
    unsigned int low, high;
    __asm__ volatile("xgetbv" : "=a"(low), "=d"(high) : "c"(0));
    return ((unsigned long long)high << 32) | low;
}

__attribute__((constructor)) static void require_instruction_sets(void)
{
    unsigned int a, b, c, d, b7 = 0, c1 = 0, c81 = 0;
    if (__get_cpuid(1, &a, &b, &c, &d)) c1 = c;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) b7 = b;
    if (__get_cpuid(0x80000001, &a, &b, &c, &d)) c81 = c;
    /* The registers are usable only when the operating system saves them: AVX state (XCR0 bits 1-2), AVX-512 (5-7). */
    unsigned long long os = (c1 & (1u << 27)) ? xcr0() : 0;

    struct { const char *name; int present; int level; } sets[] = {
        { "avx", (c1 >> 28) & 1 && (os & 0x6) == 0x6, 3 },
        { "avx2", (b7 >> 5) & 1 && (os & 0x6) == 0x6, 3 },
        { "fma", (c1 >> 12) & 1 && (os & 0x6) == 0x6, 3 },
        { "f16c", (c1 >> 29) & 1, 3 },
        { "bmi1", (b7 >> 3) & 1, 3 },
        { "bmi2", (b7 >> 8) & 1, 3 },
        { "lzcnt", (c81 >> 5) & 1, 3 },
        { "movbe", (c1 >> 22) & 1, 3 },
        { "avx512f", (b7 >> 16) & 1 && (os & 0xE6) == 0xE6, 4 },
        { "avx512bw", (b7 >> 30) & 1 && (os & 0xE6) == 0xE6, 4 },
        { "avx512cd", (b7 >> 28) & 1 && (os & 0xE6) == 0xE6, 4 },
        { "avx512dq", (b7 >> 17) & 1 && (os & 0xE6) == 0xE6, 4 },
        { "avx512vl", (b7 >> 31) & 1 && (os & 0xE6) == 0xE6, 4 },
    };
    char missing[256] = "";
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
    {
        if (sets[i].level > X86_64_LEVEL || sets[i].present) continue;
        if (missing[0]) strcat(missing, ", ");
        strcat(missing, sets[i].name);
    }
    if (!missing[0]) return;
    fprintf(stderr, "This binary was published for x86-64-v%d and this CPU lacks %s: publish with -p:AotLevel=%d or run it under the JIT (dotnet run).\n",
        X86_64_LEVEL, missing, X86_64_LEVEL == 4 ? 3 : 2);
    exit(3);
}
