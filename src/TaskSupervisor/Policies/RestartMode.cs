using System.Text.Json.Serialization;

namespace TaskSupervision;

/// <summary>When a supervised task is restarted, as in Erlang/OTP's child restart types.</summary>
/// <remarks>
/// Serialised by System.Text.Json as its member name, never as a number, whatever the serializer options: a
/// number in a JSON response is meaningless to its reader and breaks when a member is added. Names also bind from
/// configuration.
/// </remarks>
[JsonConverter(typeof(JsonStringEnumConverter<RestartMode>))]
public enum RestartMode
{
    /// <summary>Never restart (OTP <c>temporary</c>). The default when no policy is set.</summary>
    Never = 0,

    /// <summary>Restart when the work faults or times out, not when it completes (OTP <c>transient</c>).</summary>
    OnFailure = 1,

    /// <summary>Restart whenever the work ends, also when it completes: for loops that must keep running (OTP <c>permanent</c>).</summary>
    Always = 2,
}
