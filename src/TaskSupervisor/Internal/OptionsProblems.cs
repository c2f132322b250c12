using System.Globalization;

namespace TaskSupervision.Internal;

/// <summary>
/// Collects the problems of an options object, each naming its setting by its configuration path
/// (<c>TaskSupervisor:emails:ShutdownTimeout</c>) when the options were bound from configuration, by its property name
/// otherwise. Setters never throw (a throwing setter breaks configuration binding half-way); every rule is checked here,
/// all at once, by options validation at host start or by the constructor that takes the options.
/// </summary>
internal sealed class OptionsProblems(string? path, string separator = ":")
{
    private readonly List<string> _problems = [];

    public IReadOnlyList<string> Problems => _problems;

    public string? Path { get; } = string.IsNullOrEmpty(path) ? null : path;

    public string Name(string setting) => Path is null ? setting : Path + separator + setting;

    public void Add(string setting, object? value, string rule) =>
        _problems.Add(string.Create(CultureInfo.InvariantCulture, $"{Name(setting)} = {value ?? "null"}: {rule}"));

    public void AddRaw(string problem) => _problems.Add(problem);

    /// <summary>The timeout rule: zero, positive up to <see cref="Guard.MaxTimeout"/>, or (if allowed) infinite.</summary>
    public void Timeout(string setting, TimeSpan value, bool allowInfinite = true)
    {
        if (!Guard.IsValidTimeout(value, allowInfinite))
        {
            Add(setting, value, allowInfinite
                ? $"must be zero, positive up to {Guard.MaxTimeout} (the limit of .NET timers), or infinite (-00:00:00.001)."
                : $"must be zero or positive up to {Guard.MaxTimeout} (the limit of .NET timers).");
        }
    }
}
