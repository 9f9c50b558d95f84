/**
 * @file dal/migrate.h
 * @brief Versioned schema migrations: applied in order, once, each checksummed.
 *
 * Migrations come from a folder of files or from an array in C (programs that
 * embed their schema). The table dal_schema_migrations records each one applied
 * (version, name, checksum, applied_at, duration_ms, applied_by).
 *
 * Files (docs/migrations.md): `V<version>__<name>.sql` for every engine, or
 * `V<version>__<name>.<engine>.sql` (engine: sqlite, postgresql, duckdb) where
 * the SQL differs; the way back in `V<version>__<name>[.<engine>].down.sql`.
 * Versions run 1, 2, 3... without gaps. A line `-- dal:no-transaction` before the
 * first statement runs the file outside a transaction (CREATE INDEX CONCURRENTLY).
 *
 * @code
 * dal_migrate_opts o = DAL_MIGRATE_OPTS_INIT;
 * dal_migrate_report *r = NULL;
 * o.dir = "migrations";
 * o.auto_run = true;
 * if (dal_migrate(&r, db, &o) != DAL_OK) fprintf(stderr, "%s\n", dal_error_last()->message);
 * dal_migrate_report_free(r);
 * @endcode
 */
#ifndef DAL_MIGRATE_H
#define DAL_MIGRATE_H

#include "dal/common.h"
#include "dal/db.h"
#include "dal/model.h"

DAL_BEGIN_DECLS

/** dal_migration flags. */
typedef enum dal_migration_flag {
	DAL_MIGRATION_NO_TX = 1u << 0  /**< run outside a transaction (as `-- dal:no-transaction`) */
} dal_migration_flag;

/** One migration given in C. */
typedef struct dal_migration {
	long long version;     /**< 1, 2, 3... */
	const char *name;      /**< [A-Za-z0-9_]+, recorded and shown */
	const char *up;        /**< SQL statements separated by ';' */
	const char *down;      /**< the way back; NULL: none */
	const char *engine;    /**< NULL for every engine, else "sqlite", "postgresql" or "duckdb" */
	unsigned flags;        /**< dal_migration_flag bits */
} dal_migration;

#define DAL_MIGRATE_OPTS_VERSION 1

/** Where migrations come from and how they run. Start from DAL_MIGRATE_OPTS_INIT. */
typedef struct dal_migrate_opts {
	unsigned int version;          /**< DAL_MIGRATE_OPTS_VERSION */
	const char *dir;               /**< a folder of V<n>__<name>.sql files; or NULL */
	const dal_migration *list;     /**< or migrations in C (borrowed for the call) */
	size_t nlist;
	bool auto_run;                 /**< false: only report what is pending */
	int lock_timeout_ms;           /**< PostgreSQL lock_timeout of each migration; 0 = none */
	int lock_retries;              /**< further attempts of a migration whose lock timed out */
	const char *applied_by;        /**< recorded with each; NULL: the login name and host */
	int statement_timeout_ms;      /**< PostgreSQL: the bound of each statement of a migration, in place of
	                                    dal_config's statement_timeout_ms; 0 = none (an index build may
	                                    take long) */
} dal_migrate_opts;

#define DAL_MIGRATE_OPTS_INIT { DAL_MIGRATE_OPTS_VERSION, NULL, NULL, 0, true, 5000, 5, NULL, 0 }

/** Where a migration stands. */
typedef enum dal_migration_state {
	DAL_MIGRATION_APPLIED,   /**< recorded, and the source still has the same text */
	DAL_MIGRATION_PENDING,   /**< in the source, not applied */
	DAL_MIGRATION_CHANGED,   /**< applied, but its text changed since (checksum differs) */
	DAL_MIGRATION_MISSING    /**< applied, and no longer in the source */
} dal_migration_state;

/** One migration in a report. Strings are owned by the report. */
typedef struct dal_migration_status {
	long long version;
	const char *name;
	dal_migration_state state;
	const char *checksum;    /**< SHA-256 of the up text as it is now ("" if MISSING) */
	const char *file;        /**< the up file, or "" for a migration given in C */
	int64_t applied_at;      /**< UTC microseconds; 0 if not applied */
	int64_t duration_ms;     /**< how long it took to apply; 0 if not applied */
	const char *applied_by;  /**< "" if not applied */
	bool applied_now;        /**< applied (or, by dal_migrate_down, undone) by this call */
} dal_migration_status;

/** What dal_migrate, dal_migrate_status and dal_migrate_down report. */
typedef struct dal_migrate_report {
	dal_migration_status *items;   /**< every migration known, by version */
	size_t count;
	size_t pending;                /**< still pending after the call */
	size_t applied_now;            /**< applied (or undone) by the call */
	long long current_version;     /**< the highest applied version; 0 if none */
} dal_migrate_report;

/**
 * Apply the pending migrations in order (with auto_run off, only report them).
 * Each runs in its own transaction (unless DAL_MIGRATION_NO_TX) and is recorded
 * in it. Safe with several processes at once: each migration is applied once.
 * When nothing is pending no lock is taken.
 *
 * @param out the report (free with dal_migrate_report_free), also on most errors; may be NULL
 * @return DAL_OK; DAL_EINVAL for a bad source (the message names the file);
 *         DAL_ESCHEMA if an applied migration's text changed (naming the file);
 *         the engine's error for a failing migration, the message naming the file and
 *         the line of the failing statement (it is rolled back, nothing after it runs);
 *         DAL_EBUSY when its locks stayed taken through every retry.
 */
DAL_API int dal_migrate(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *opts);

/** The report of dal_migrate with auto_run off; changes nothing. */
DAL_API int dal_migrate_status(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *opts);

/**
 * Undo applied migrations, newest first, down to @p target (0: all), each with its
 * down part in its own transaction.
 *
 * @return DAL_OK; DAL_EINVAL if one to undo has no down part or is not in the
 *         source (nothing is undone then).
 */
DAL_API int dal_migrate_down(dal_migrate_report **out, dal_db *db, const dal_migrate_opts *opts, long long target);

/** Free a report; NULL is a no-op. */
DAL_API void dal_migrate_report_free(dal_migrate_report *report);

/** One lock-heavy operation the linter found. Strings are owned by the report. */
typedef struct dal_lint_finding {
	const char *file;        /**< the file, or the migration's name for one given in C */
	long long version;
	int line;                /**< where the statement starts */
	const char *rule;        /**< e.g. "index-not-concurrent" (docs/migrations.md lists them) */
	const char *message;     /**< what it locks, and the safe way to do it */
} dal_lint_finding;

typedef struct dal_lint_report {
	dal_lint_finding *items;
	size_t count;
} dal_lint_report;

/**
 * Look for operations that take heavy locks on PostgreSQL in the migrations of
 * @p opts (each version's PostgreSQL file, else its file for every engine),
 * without a database: CREATE INDEX without CONCURRENTLY, ALTER COLUMN ... TYPE,
 * a foreign key or CHECK without NOT VALID, SET NOT NULL without a validated
 * CHECK first, a column with a volatile default, dropping or renaming a table or
 * column that @p models still declare, and turning lock_timeout off. Statements
 * on a table made in the same migration are not flagged.
 *
 * @param models the program's models (may be NULL with n 0)
 * @return DAL_OK with the findings (none: count 0); DAL_EINVAL for a bad source.
 */
DAL_API int dal_migrate_lint(dal_lint_report **out, const dal_migrate_opts *opts, const dal_model *const *models,
                             size_t n);

/** Free a lint report; NULL is a no-op. */
DAL_API void dal_lint_report_free(dal_lint_report *report);

/** A short name of a state: "applied", "pending", "changed", "missing". */
DAL_API const char *dal_migration_state_name(dal_migration_state state);

DAL_END_DECLS

#endif
