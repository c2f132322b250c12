using TaskSupervision;

var builder = WebApplication.CreateBuilder(args);
builder.Services.AddTaskSupervisor();

var app = builder.Build();
app.MapPost("/reports/{id}", (int id, ITaskSupervisor supervisor) =>
{
    supervisor.Run($"report:{id}", async ct =>
    {
        await Task.Delay(TimeSpan.FromSeconds(5), ct);   // the slow part, cancelled on shutdown
        Console.WriteLine($"report {id} done");
    });
    return Results.Accepted();
});
app.Run();
