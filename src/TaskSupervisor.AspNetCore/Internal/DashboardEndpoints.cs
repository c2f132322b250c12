using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace TaskSupervision.AspNetCore.Internal;

/// <summary>
/// The dashboard's endpoints, all in one route group so that the application's conventions (authorization, rate limits,
/// host filters) reach every one of them: the page, its assets, the JSON API and the event stream.
/// </summary>
internal static class DashboardEndpoints
{
    public static RouteGroupBuilder Map(IEndpointRouteBuilder endpoints, string pattern, TaskSupervisorDashboardOptions options)
    {
        RouteGroupBuilder group = endpoints.MapGroup(pattern);
        group.AddEndpointFilter(static (context, next) =>
        {
            AddSecurityHeaders(context.HttpContext.Response.Headers);
            return next(context);
        });

        group.MapGet("/", Page);
        group.MapGet("/assets/{file}", Asset);
        group.MapGet("/api/session", SessionAsync);
        group.MapGet("/api/supervisors", Supervisors);
        group.MapGet("/api/tasks", Tasks);
        group.MapGet("/api/failures", Failures);
        group.MapGet("/api/events", Events);

        // The cancel endpoints exist only when the application enables them, and then require its policy on top of any
        // policy of the whole group (an endpoint must pass every authorization convention applied to it).
        if (options.EnableCancel)
        {
            group.MapPost("/api/cancel", CancelAsync).RequireAuthorization(options.CancelPolicy!);
            group.MapPost("/api/cancel-prefix", CancelPrefixAsync).RequireAuthorization(options.CancelPolicy!);
        }

        return group;
    }

    internal static void AddSecurityHeaders(IHeaderDictionary headers)
    {
        headers.ContentSecurityPolicy = DashboardConstants.ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
    }

    private static IResult Page(HttpContext context)
    {
        // The page refers to its assets and API by relative URLs, which resolve under the prefix only from "prefix/".
        HttpRequest request = context.Request;
        if (!request.Path.HasValue || !request.Path.Value.EndsWith('/'))
        {
            return TypedResults.Redirect(request.PathBase + request.Path + "/" + request.QueryString);
        }

        context.Response.Headers.CacheControl = "no-store";
        DashboardAsset page = DashboardAssets.Files[DashboardAssets.IndexFile];
        return TypedResults.Bytes(page.Content, page.ContentType);
    }

    private static IResult Asset(HttpContext context, string file)
    {
        if (file == DashboardAssets.IndexFile || !DashboardAssets.Files.TryGetValue(file, out DashboardAsset? asset))
        {
            return TypedResults.NotFound();
        }

        // Revalidated on every load, answered by 304 when unchanged: a new version of the package is picked up at once.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        return TypedResults.Bytes(asset.Content, asset.ContentType);
    }

    private static async Task<IResult> SessionAsync(HttpContext context, [FromServices] DashboardReader reader)
    {
        TaskSupervisorDashboardOptions options = reader.Options;
        bool canCancel = options.EnableCancel && await PassesAsync(context, options.CancelPolicy!).ConfigureAwait(false);
        string? header = null, token = null;
        if (canCancel)
        {
            AntiforgeryTokenSet tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
            header = tokens.HeaderName;
            token = tokens.RequestToken;
        }

        NoStore(context);
        SessionInfo session = new(canCancel, header, token, options.UpdateInterval.TotalMilliseconds, options.IncludeStackTraces);
        return TypedResults.Json(session, DashboardJsonContext.Default.SessionInfo);
    }

    private static JsonHttpResult<SupervisorSummary[]> Supervisors(HttpContext context, [FromServices] DashboardReader reader)
    {
        NoStore(context);
        return TypedResults.Json(reader.GetSummaries(), DashboardJsonContext.Default.SupervisorSummaryArray);
    }

    private static IResult Tasks(HttpContext context, [FromServices] DashboardReader reader)
    {
        if (!TryParse(context.Request.Query, reader, out ITaskSupervisor? supervisor, out TaskPageRequest request, out IResult? error))
        {
            return error;
        }

        NoStore(context);
        return TypedResults.Json(SupervisorAdapter.GetPage(supervisor, request), DashboardJsonContext.Default.TaskTablePage);
    }

    private static IResult Failures(HttpContext context, [FromServices] DashboardReader reader)
    {
        string? name = context.Request.Query["supervisor"];
        if (reader.Find(name) is not { } supervisor)
        {
            return NotFound(name);
        }

        NoStore(context);
        return TypedResults.Json(reader.GetFailures(supervisor), DashboardJsonContext.Default.FailureRowArray);
    }

    private static IResult Events(HttpContext context, [FromServices] DashboardReader reader, [FromServices] IHostApplicationLifetime lifetime)
    {
        if (!TryParse(context.Request.Query, reader, out ITaskSupervisor? supervisor, out TaskPageRequest request, out IResult? error))
        {
            return error;
        }

        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.ServerSentEvents(StreamAsync(reader, supervisor, request, lifetime.ApplicationStopping, CancellationToken.None));
    }

    /// <summary>
    /// One update now, then one per <see cref="TaskSupervisorDashboardOptions.UpdateInterval"/>, until the page goes away
    /// (the request is aborted) or the application stops. Failures are sent only when the ring changed.
    /// </summary>
    internal static async IAsyncEnumerable<SseItem<byte[]>> StreamAsync(
        DashboardReader reader,
        ITaskSupervisor supervisor,
        TaskPageRequest request,
        CancellationToken stopping,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using CancellationTokenSource linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, cancellationToken);
        using PeriodicTimer timer = new(reader.Options.UpdateInterval, reader.TimeProvider);
        long sentFailures = -1;
        while (true)
        {
            long failures = reader.FailureVersion(supervisor);
            byte[] update = reader.WriteUpdate(supervisor, request, includeFailures: failures != sentFailures);
            sentFailures = failures;
            yield return new SseItem<byte[]>(update, "update") { ReconnectionInterval = TimeSpan.FromMilliseconds(DashboardConstants.ReconnectMilliseconds) };

            bool more;
            try
            {
                more = await timer.WaitForNextTickAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The page went away or the application is stopping: end the stream quietly, so that shutdown never
                // waits for an open dashboard.
                more = false;
            }

            if (!more)
            {
                yield break;
            }
        }
    }

    private static async Task<IResult> CancelAsync(HttpContext context, [FromServices] DashboardReader reader, [FromServices] ILoggerFactory loggers)
    {
        ILogger logger = loggers.CreateLogger("TaskSupervision.AspNetCore.Dashboard");
        if (await RejectAsync(context, logger).ConfigureAwait(false) is { } rejected)
        {
            return rejected;
        }

        CancelTaskRequest? body = await ReadAsync(context, DashboardJsonContext.Default.CancelTaskRequest).ConfigureAwait(false);
        if (body is null || string.IsNullOrEmpty(body.Key))
        {
            return BadRequest("The body must be JSON with a non-empty \"key\" (and optionally \"supervisor\").");
        }

        if (reader.Find(body.Supervisor) is not { } supervisor)
        {
            return NotFound(body.Supervisor);
        }

        CancelResult result = await SupervisorAdapter.CancelAsync(supervisor, body.Key, reader.Options.CancelTimeout, context.RequestAborted).ConfigureAwait(false);
        string user = UserOf(context);
        Log.DashboardCancel(logger, user, body.Key, supervisor.Name, result);
        NoStore(context);
        return TypedResults.Json(new CancelTaskResponse(supervisor.Name, body.Key, result), DashboardJsonContext.Default.CancelTaskResponse);
    }

    private static async Task<IResult> CancelPrefixAsync(HttpContext context, [FromServices] DashboardReader reader, [FromServices] ILoggerFactory loggers)
    {
        ILogger logger = loggers.CreateLogger("TaskSupervision.AspNetCore.Dashboard");
        if (await RejectAsync(context, logger).ConfigureAwait(false) is { } rejected)
        {
            return rejected;
        }

        CancelPrefixRequest? body = await ReadAsync(context, DashboardJsonContext.Default.CancelPrefixRequest).ConfigureAwait(false);

        // An empty prefix would match every keyed task: stopping everything is what a drain is for, not a dashboard click.
        if (body is null || string.IsNullOrEmpty(body.KeyPrefix))
        {
            return BadRequest("The body must be JSON with a non-empty \"keyPrefix\" (and optionally \"supervisor\").");
        }

        if (reader.Find(body.Supervisor) is not { } supervisor)
        {
            return NotFound(body.Supervisor);
        }

        CancelWhereResult outcome = await SupervisorAdapter.CancelPrefixAsync(supervisor, body.KeyPrefix, reader.Options.CancelTimeout, context.RequestAborted).ConfigureAwait(false);
        string user = UserOf(context);
        Log.DashboardCancelPrefix(logger, user, body.KeyPrefix, supervisor.Name, outcome.Matched);
        NoStore(context);
        return TypedResults.Json(
            new CancelPrefixResponse(supervisor.Name, body.KeyPrefix, outcome.Matched, outcome.RanToCompletion, outcome.Canceled, outcome.Faulted, outcome.StillRunning),
            DashboardJsonContext.Default.CancelPrefixResponse);
    }

    /// <summary>Refuses an action without a valid antiforgery token, or whose body is not JSON.</summary>
    private static async Task<IResult?> RejectAsync(HttpContext context, ILogger logger)
    {
        // Checked here rather than left to UseAntiforgery: the protection must not depend on the application's middleware.
        IAntiforgery antiforgery = context.RequestServices.GetRequiredService<IAntiforgery>();
        if (!await antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
        {
            string user = UserOf(context);
            Log.DashboardAntiforgeryRejected(logger, user);
            return BadRequest("The antiforgery token is missing or invalid.");
        }

        // A cross-site form cannot send application/json without a CORS preflight: a second wall behind the token.
        if (!context.Request.HasJsonContentType())
        {
            return TypedResults.Json(new ErrorResponse("The body must be application/json."), DashboardJsonContext.Default.ErrorResponse, statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        return null;
    }

    private static async Task<T?> ReadAsync<T>(HttpContext context, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        try
        {
            return await context.Request.ReadFromJsonAsync(type, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Whether the current user passes the named policy, authenticated the way the authorization middleware would.</summary>
    private static async Task<bool> PassesAsync(HttpContext context, string policyName)
    {
        IServiceProvider services = context.RequestServices;
        AuthorizationPolicy policy = await services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(policyName).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"The dashboard's CancelPolicy '{policyName}' is not an authorization policy of the application; add it with AddAuthorization(o => o.AddPolicy(\"{policyName}\", ...)).");
        IPolicyEvaluator evaluator = services.GetRequiredService<IPolicyEvaluator>();
        AuthenticateResult authentication = await evaluator.AuthenticateAsync(policy, context).ConfigureAwait(false);
        // The HttpContext is the resource, as the authorization middleware passes it to the same policy on the cancel endpoints.
        PolicyAuthorizationResult authorization = await evaluator.AuthorizeAsync(policy, authentication, context, resource: context).ConfigureAwait(false);
        return authorization.Succeeded;
    }

    private static bool TryParse(
        IQueryCollection query,
        DashboardReader reader,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out ITaskSupervisor? supervisor,
        out TaskPageRequest request,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out IResult? error)
    {
        request = default;
        supervisor = null;
        TaskSupervisorDashboardOptions options = reader.Options;

        SupervisedTaskStatus? status = null;
        if (!StringValues.IsNullOrEmpty(query["status"]))
        {
            // Names only: Enum.TryParse alone would also take "1" or "-7".
            string text = query["status"].ToString();
            if (!Enum.GetNames<SupervisedTaskStatus>().Contains(text, StringComparer.OrdinalIgnoreCase)
                || !Enum.TryParse(text, ignoreCase: true, out SupervisedTaskStatus parsed))
            {
                error = BadRequest($"Unknown status; use one of {string.Join(", ", Enum.GetNames<SupervisedTaskStatus>())}.");
                return false;
            }

            status = parsed;
        }

        // Oldest first by default, as the core's query: the tasks tracked longest, the likely stuck ones, come first.
        bool newestFirst = false;
        string? order = query["order"];
        if (!string.IsNullOrEmpty(order))
        {
            if (order.Equals("newest", StringComparison.OrdinalIgnoreCase))
            {
                newestFirst = true;
            }
            else if (!order.Equals("oldest", StringComparison.OrdinalIgnoreCase))
            {
                error = BadRequest("Unknown order; use newest or oldest.");
                return false;
            }
        }

        if (!TryInt(query["skip"], 0, out int skip) || skip < 0)
        {
            error = BadRequest("skip must be a whole number from 0.");
            return false;
        }

        if (!TryInt(query["take"], options.DefaultPageSize, out int take) || take < 1)
        {
            error = BadRequest("take must be a whole number from 1.");
            return false;
        }

        string? name = query["supervisor"];
        supervisor = reader.Find(name);
        if (supervisor is null)
        {
            error = NotFound(name);
            return false;
        }

        request = new TaskPageRequest(status, query["keyPrefix"], newestFirst, skip, Math.Min(take, options.MaxPageSize));
        error = null;
        return true;
    }

    private static bool TryInt(StringValues value, int fallback, out int result)
    {
        if (StringValues.IsNullOrEmpty(value))
        {
            result = fallback;
            return true;
        }

        return int.TryParse(value.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out result);
    }

    private static string UserOf(HttpContext context) => context.User.Identity?.Name ?? "(anonymous)";

    private static void NoStore(HttpContext context) => context.Response.Headers.CacheControl = "no-store";

    private static JsonHttpResult<ErrorResponse> BadRequest(string message) =>
        TypedResults.Json(new ErrorResponse(message), DashboardJsonContext.Default.ErrorResponse, statusCode: StatusCodes.Status400BadRequest);

    private static JsonHttpResult<ErrorResponse> NotFound(string? supervisor) =>
        TypedResults.Json(
            new ErrorResponse(string.IsNullOrEmpty(supervisor) ? "No supervisor is registered." : $"No supervisor is named '{supervisor}'."),
            DashboardJsonContext.Default.ErrorResponse,
            statusCode: StatusCodes.Status404NotFound);
}
