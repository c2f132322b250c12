using System.Runtime.InteropServices;

namespace TaskSupervision.Internal;

/// <summary>A 64-bit counter alone on its cache line (128 bytes also covers adjacent-line prefetching), against false sharing.</summary>
[StructLayout(LayoutKind.Explicit, Size = 192)]
internal struct PaddedCounter
{
    [FieldOffset(64)]
    public long Value;
}
