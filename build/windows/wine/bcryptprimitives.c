/*
 * Test-only stand-in for bcryptprimitives.dll under wine 8.0, which lacks it.
 *
 * Go >= 1.22 on Windows loads bcryptprimitives.dll and calls ProcessPrng for
 * its random source; wine 8.0 ships bcrypt.dll but not this DLL, so a Go exe
 * dies with "bcryptprimitives.dll not found". ProcessPrng fills a buffer with
 * random bytes and always returns TRUE; this stub forwards to
 * SystemFunction036 (RtlGenRandom) in advapi32. Real Windows 10/11 has the
 * DLL; never ship this.
 *
 * Build: x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *            bcryptprimitives.c bcryptprimitives.def -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return TRUE;
}
