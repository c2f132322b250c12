namespace PitfallsDemo.Tests;

public sealed class TourTests
{
    [Fact]
    public async Task Tour_RunsToTheEnd_AndReturnsZero()
    {
        using StringWriter output = new();

        int exitCode = await Tour.RunAsync(output).WaitAsync(TimeSpan.FromSeconds(180)); // the crash step starts two copies of the app and waits out a lease

        string text = output.ToString();
        exitCode.Should().Be(0, text);
        text.Should().NotContain("UNEXPECTED")
            .And.Contain("fault logged for key email:bob@")
            .And.Contain("drain report: drained 1 task(s)")
            .And.Contain("a crash loses nothing")
            .And.EndWith("Tour complete: every claim above was checked against the running app." + Environment.NewLine);
    }
}
