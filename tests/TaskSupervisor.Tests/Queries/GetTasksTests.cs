namespace TaskSupervision.Tests.Queries;

public sealed class GetTasksTests
{
    [Fact]
    public async Task GetTasks_OldestFirstByDefault_PagesWithSkipAndTake_TotalCountsEveryMatch()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var ids = new List<long>();
        for (int i = 0; i < 10; i++)
        {
            ids.Add(harness.Supervisor.Run($"job:{i}", _ => release.Task).Id);
        }

        TaskPage first = harness.Supervisor.GetTasks(new TaskQuery { Take = 4 });
        TaskPage second = harness.Supervisor.GetTasks(new TaskQuery { Skip = 4, Take = 4 });
        TaskPage last = harness.Supervisor.GetTasks(new TaskQuery { Skip = 8, Take = 4 });

        first.TotalCount.Should().Be(10);
        first.Items.Select(t => t.Id).Should().Equal(ids.Take(4));
        second.Items.Select(t => t.Id).Should().Equal(ids.Skip(4).Take(4));
        last.Items.Select(t => t.Id).Should().Equal(ids.Skip(8));
        release.SetResult();
    }

    [Fact]
    public async Task GetTasks_NewestFirst_OrdersByDescendingId()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        long[] ids = Enumerable.Range(0, 5).Select(_ => harness.Supervisor.Run(_ => release.Task).Id).ToArray();

        TaskPage page = harness.Supervisor.GetTasks(new TaskQuery { NewestFirst = true, Take = 3 });

        page.Items.Select(t => t.Id).Should().Equal(ids.Reverse().Take(3));
        page.TotalCount.Should().Be(5);
        release.SetResult();
    }

    [Fact]
    public async Task GetTasks_KeyPrefix_IsOrdinal_AndExcludesUnkeyedTasks()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run("tenant:1:a", _ => release.Task);
        harness.Supervisor.Run("tenant:1:b", _ => release.Task);
        harness.Supervisor.Run("TENANT:1:c", _ => release.Task);
        harness.Supervisor.Run("tenant:2:a", _ => release.Task);
        harness.Supervisor.Run(_ => release.Task);

        harness.Supervisor.GetTasks(new TaskQuery { KeyPrefix = "tenant:1:" }).Items.Select(t => t.Key)
            .Should().Equal("tenant:1:a", "tenant:1:b");
        harness.Supervisor.GetTasks(new TaskQuery { KeyPrefix = "" }).TotalCount.Should().Be(4, "the empty prefix matches every keyed task");
        harness.Supervisor.GetTasks(new TaskQuery()).TotalCount.Should().Be(5);
        release.SetResult();
    }

    [Fact]
    public async Task GetTasks_StatusFilter_SeparatesPendingFromRunning()
    {
        await using var harness = new Harness(o => o.MaxConcurrency = 1);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        SupervisedTask running = harness.Supervisor.Run(async _ =>
        {
            started.SetResult();
            await release.Task;
        });
        SupervisedTask waiting = harness.Supervisor.Run(_ => release.Task);
        await started.Task.Within();

        TaskPage pending = harness.Supervisor.GetTasks(new TaskQuery { Status = SupervisedTaskStatus.Pending });
        TaskPage runningPage = harness.Supervisor.GetTasks(new TaskQuery { Status = SupervisedTaskStatus.Running });

        pending.Items.Should().ContainSingle().Which.Id.Should().Be(waiting.Id);
        runningPage.Items.Should().ContainSingle().Which.Status.Should().Be(SupervisedTaskStatus.Running);
        runningPage.Items[0].Id.Should().Be(running.Id);
        release.SetResult();
    }

    [Fact]
    public async Task GetTasks_TakeZero_ReturnsOnlyTheCount()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);
        harness.Supervisor.Run(_ => release.Task);

        TaskPage page = harness.Supervisor.GetTasks(new TaskQuery { Take = 0 });

        page.Items.Should().BeEmpty();
        page.TotalCount.Should().Be(2);
        release.SetResult();
    }

    [Fact]
    public async Task GetTasks_SkipPastTheEnd_ReturnsAnEmptyPageWithTheCount()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        harness.Supervisor.Run(_ => release.Task);

        TaskPage page = harness.Supervisor.GetTasks(new TaskQuery { Skip = 5 });

        page.Items.Should().BeEmpty();
        page.TotalCount.Should().Be(1);
        release.SetResult();
    }

    [Theory]
    [InlineData(-1, 10)]
    [InlineData(0, -1)]
    [InlineData(0, TaskQuery.MaxTake + 1)]
    public async Task GetTasks_SkipOrTakeOutOfRange_ThrowsArgumentOutOfRange(int skip, int take)
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(s => s.GetTasks(new TaskQuery { Skip = skip, Take = take }))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("query");
    }

    [Fact]
    public async Task GetTasks_NullQuery_ThrowsArgumentNull()
    {
        await using var harness = new Harness();

        harness.Supervisor.Invoking(s => s.GetTasks(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public async Task GetTasks_TaskWaitingToRestart_ShowsRestartCountAndLastException()
    {
        await using var harness = new Harness();
        var policy = new RestartPolicy { InitialDelay = TimeSpan.FromSeconds(10), MaxDelay = TimeSpan.FromSeconds(10), Jitter = 0 };
        SupervisedTask task = harness.Supervisor.Run("flaky", _ => throw new InvalidOperationException("down"), new TaskOptions { Restart = policy });
        await harness.Time.AdvanceUntil(() => task.RestartCount == 1 && task.Status == SupervisedTaskStatus.Pending, TimeSpan.Zero);

        SupervisedTaskInfo info = harness.Supervisor.GetTasks(new TaskQuery()).Items.Should().ContainSingle().Subject;

        info.RestartCount.Should().Be(1);
        info.LastException.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("down");
        info.LastError.Should().Be("down");
        task.Cancel();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task GetTasks_AgreesWithAFullSortOfTheSnapshot_SeededModel(int seed)
    {
        // The model: filter, sort and page the whole snapshot. Replay a failure with its seed.
        await using var harness = new Harness(o => o.MaxConcurrency = 50);
        var random = new Random(seed);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int count = random.Next(100, 400);
        for (int i = 0; i < count; i++)
        {
            if (random.Next(3) == 0)
            {
                harness.Supervisor.Run(_ => release.Task);
            }
            else
            {
                harness.Supervisor.Run($"{(char)('a' + random.Next(3))}:{i}", _ => release.Task);
            }
        }

        await harness.Time.AdvanceUntil(() => harness.Supervisor.RunningCount == 50, TimeSpan.Zero);
        IReadOnlyList<SupervisedTaskInfo> all = harness.Supervisor.GetSnapshot();

        for (int q = 0; q < 50; q++)
        {
            var query = new TaskQuery
            {
                Status = random.Next(3) switch { 0 => null, 1 => SupervisedTaskStatus.Pending, _ => SupervisedTaskStatus.Running },
                KeyPrefix = random.Next(3) switch { 0 => null, 1 => "", _ => ((char)('a' + random.Next(3))).ToString() },
                NewestFirst = random.Next(2) == 0,
                Skip = random.Next(0, 60),
                Take = random.Next(0, 60),
            };
            List<SupervisedTaskInfo> matching = all
                .Where(t => query.Status is null || t.Status == query.Status)
                .Where(t => query.KeyPrefix is null || (t.Key is not null && t.Key.StartsWith(query.KeyPrefix, StringComparison.Ordinal)))
                .ToList();
            IEnumerable<long> ordered = query.NewestFirst ? matching.Select(t => t.Id).OrderDescending() : matching.Select(t => t.Id).Order();

            TaskPage page = harness.Supervisor.GetTasks(query);

            page.TotalCount.Should().Be(matching.Count, "seed {0}, query {1}", seed, query);
            page.Items.Select(t => t.Id).Should().Equal(ordered.Skip(query.Skip).Take(query.Take), "seed {0}, query {1}", seed, query);
        }

        release.SetResult();
    }

    [Fact]
    public async Task GetTasks_OverManyTrackedTasks_AllocatesByThePageNotByTheTaskCount()
    {
        await using var harness = new Harness();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (int i = 0; i < 100_000; i++)
        {
            harness.Supervisor.Run(_ => release.Task);
        }

        var query = new TaskQuery { Take = 10, NewestFirst = true };
        harness.Supervisor.GetTasks(query); // JIT and first-use allocations out of the way
        long before = GC.GetAllocatedBytesForCurrentThread();
        TaskPage page = harness.Supervisor.GetTasks(query);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        page.TotalCount.Should().Be(100_000);
        page.Items.Should().HaveCount(10);
        allocated.Should().BeLessThan(8 * 1024, "a page of 10 costs a heap of 11 and 10 descriptions, not a copy of 100,000 tasks (800 KB of references)");
        release.SetResult();
    }
}
