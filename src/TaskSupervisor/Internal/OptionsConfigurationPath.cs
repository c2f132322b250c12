namespace TaskSupervision.Internal;

/// <summary>
/// Where the options of one name were bound from in configuration (<c>TaskSupervisor:emails</c>), registered by the
/// binding overloads (in TaskSupervisor.Hosting, which may depend on Microsoft.Extensions.Configuration where the core may
/// not), so that validation can name each bad setting by the path a user finds it under in <c>appsettings.json</c>.
/// </summary>
internal sealed class OptionsConfigurationPath(Type optionsType, string name, string path)
{
    public Type OptionsType { get; } = optionsType;

    public string Name { get; } = name;

    public string Path { get; } = path;

    /// <summary>The path of the last binding registered for <paramref name="name"/>, or <see langword="null"/>.</summary>
    public static string? Find(IReadOnlyList<OptionsConfigurationPath> paths, Type optionsType, string? name)
    {
        name ??= Microsoft.Extensions.Options.Options.DefaultName;
        for (int i = paths.Count - 1; i >= 0; i--)
        {
            if (paths[i].OptionsType == optionsType && paths[i].Name == name)
            {
                return paths[i].Path;
            }
        }

        return null;
    }
}
