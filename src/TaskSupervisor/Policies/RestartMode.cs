namespace TaskSupervision;

/// <summary>When a supervised task is restarted, as in Erlang/OTP's child restart types.</summary>
public enum RestartMode
{
    /// <summary>Never restart (OTP <c>temporary</c>). The default when no policy is set.</summary>
    Never = 0,

    /// <summary>Restart when the work faults or times out, not when it completes (OTP <c>transient</c>).</summary>
    OnFailure = 1,

    /// <summary>Restart whenever the work ends, also when it completes: for loops that must keep running (OTP <c>permanent</c>).</summary>
    Always = 2,
}
