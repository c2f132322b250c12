using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.Storage.SQLite;

namespace TaskSupervision.Hangfire.Worker;

/// <summary>The two storages the tests use, configured the same way in the worker and in the tests' own checks.</summary>
public static class Storages
{
    /// <summary>How often a storage polls its queues: short, so that the tests and probes stay fast.</summary>
    public static readonly TimeSpan QueuePollInterval = TimeSpan.FromMilliseconds(200);

    /// <summary>Creates the storage: <c>sqlite</c> with a file path, or <c>pg</c> with a connection string and a schema.</summary>
    public static JobStorage Create(string kind, string connection, string schema) => kind switch
    {
        "sqlite" => new SQLiteStorage(new SQLiteDbConnectionFactory(() => OpenSqlite(connection)), new SQLiteStorageOptions
        {
            QueuePollInterval = QueuePollInterval,

            // A lock left by a killed process expires after this; the default keeps it for 30 s.
            DistributedLockLifetime = TimeSpan.FromSeconds(5),
        }),
        "pg" => new PostgreSqlStorage(
            new global::Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connection, new PostgreSqlStorageOptions { SchemaName = schema }),
            new PostgreSqlStorageOptions
            {
                SchemaName = schema,
                QueuePollInterval = QueuePollInterval,
                DistributedLockTimeout = TimeSpan.FromSeconds(10),
                InvisibilityTimeout = TimeSpan.FromSeconds(30),
                PrepareSchemaIfNecessary = true,
            }),
        _ => throw new ArgumentException($"Unknown storage '{kind}': use sqlite or pg.", nameof(kind)),
    };

    /// <summary>
    /// A connection as the storage opens it, plus write-ahead logging with <c>synchronous=NORMAL</c>: a commit survives
    /// the death of the process (what these tests kill), though not a power cut, and costs no fsync. Both processes wait
    /// for each other's write lock instead of failing at once.
    /// </summary>
    private static SQLite.SQLiteConnection OpenSqlite(string path)
    {
        var connection = new SQLite.SQLiteConnection(path, SQLite.SQLiteOpenFlags.ReadWrite | SQLite.SQLiteOpenFlags.Create | SQLite.SQLiteOpenFlags.FullMutex, storeDateTimeAsTicks: true)
        {
            BusyTimeout = TimeSpan.FromSeconds(30),
        };
        connection.ExecuteScalar<string>("PRAGMA journal_mode=WAL");
        connection.ExecuteScalar<string>("PRAGMA synchronous=NORMAL");
        return connection;
    }
}
