/*
 * The one internal table of operations every engine implements.
 *
 * Only files in src/driver/ include an engine header. Features ask `caps`,
 * never the engine's name. A connection embeds struct dal_conn first, a
 * statement struct dal_stmt first.
 */
#ifndef DAL_DRIVER_H
#define DAL_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include "dal/config.h"
#include "dal/value.h"
#include "url.h"

/* Capabilities. */
#define DAL_CAP_SAVEPOINT     (1u << 0)  /* SAVEPOINT / RELEASE / ROLLBACK TO */
#define DAL_CAP_RETURNING     (1u << 1)  /* INSERT/UPDATE ... RETURNING */
#define DAL_CAP_PARTIAL_INDEX (1u << 2)  /* CREATE INDEX ... WHERE */
#define DAL_CAP_BULK_INSERT   (1u << 3)  /* bulk_insert is the engine's fast path (COPY, Appender) */
#define DAL_CAP_SERIALIZABLE  (1u << 4)  /* isolation levels can be chosen */
#define DAL_CAP_MULTI_WRITER  (1u << 5)  /* write transactions on several connections at once */
#define DAL_CAP_ANY_ARRAY     (1u << 6)  /* col = ANY(array parameter) */
#define DAL_CAP_MULTI_CONN    (1u << 7)  /* several connections may share the database */
#define DAL_CAP_STREAM_SORTED (1u << 8)  /* an ORDER BY streams in bounded memory (index or spilling sort) */
#define DAL_CAP_TX_DDL        (1u << 9)  /* CREATE TABLE/INDEX commit or roll back with their transaction */
#define DAL_CAP_WRITABLE_CTE  (1u << 10) /* WITH x AS (INSERT/UPDATE ... RETURNING) and sha256() in SQL */
/* UPDATE ... RETURNING is safe with writers at once. Not on DuckDB 1.4.4: there, transactions
 * running it at once corrupt the strings later INSERTs store (tests/conformance
 * test_parallel_writers_one_chain); dal updates, then reads the row back. */
#define DAL_CAP_UPDATE_RETURNING (1u << 11)
#define DAL_CAP_MEMORY_PER_CONN  (1u << 12) /* each connection to a :memory: URL is a database of its own */

/* What step() returns besides a negative DAL_E* code. */
enum { DAL__DONE = 0, DAL__ROW = 1 };

/* begin() flags. */
#define DAL__TX_WRITE           (1u << 0)  /* the unit will write: take the write lock up front */
#define DAL__TX_READ_ONLY       (1u << 1)
#define DAL__TX_REPEATABLE_READ (1u << 2)
#define DAL__TX_SERIALIZABLE    (1u << 3)

/* write_job() steps. */
enum { DAL__JOB_START, DAL__JOB_BATCH, DAL__JOB_PAUSE, DAL__JOB_END };

/* prepare() flags. */
#define DAL__STMT_STREAM (1u << 0)  /* rows are read one by one in constant memory */

typedef enum dal_placeholder {
	DAL_PH_QMARK,   /* ? */
	DAL_PH_DOLLAR   /* $1, $2, ... */
} dal_placeholder;

/* How a long IN list's one parameter is spelled. */
typedef enum dal_array_form {
	DAL_ARRAY_PG,     /* PostgreSQL array input: {1,"it\"s"} */
	DAL_ARRAY_JSON    /* a JSON array: [1,"it\"s"] */
} dal_array_form;

/* Dialect facts, so that SQL text is built in one place (src/sql/) for every engine. */
typedef struct dal_dialect {
	char quote;                              /* identifier quote */
	dal_placeholder placeholder;
	const char *types[DAL_TYPE_JSON + 1];    /* DDL type of each dal_type */
	const char *varchar;                     /* DDL of text with a length, a %u in it; NULL: types[TEXT] */
	const char *autoinc_pk;                  /* column DDL after the quoted name; %s = table name */
	const char *autoinc_pre;                 /* run before CREATE TABLE (a sequence); %s = table; or NULL */
	const char *like_escape;                 /* the ESCAPE clause dal uses with LIKE */
	const char *table_count_sql;             /* one row, one integer: the user tables in the current schema */
	/* With DAL_CAP_BULK_INSERT: draws ? ids from the table's id sequence, one per row,
	 * %s = table; NULL where ids come from the insert itself. */
	const char *next_ids_sql;
	/* After a create given its ids: moves the table's id sequence past ?, the largest
	 * of them, never back, so that ids drawn later skip them; %s = table (at every %s).
	 * One row, one integer: the last id the sequence stands at afterwards; below ?, the
	 * engine could not move it that far. NULL where the engine's counter goes past every
	 * stored id by itself (SQLite AUTOINCREMENT). */
	const char *id_seq_past_sql;
	/* One row (last_id, last_hash): the audit chain's end, read without writing the head
	 * row, for engines whose writers are serialized anyway (the row lock orders nothing
	 * there and costs a page per write). NULL: the head row, locked by its UPDATE. */
	const char *audit_head_sql;
	/* Appended to a SELECT of rows a write then replaces, where writers run at once and wait
	 * on row locks: the rows stay locked until commit, so the values read are the ones
	 * replaced. NULL where writers are serialized anyway (SQLite) or the later of two
	 * conflicting ones fails at commit (DuckDB). */
	const char *row_lock;
	/* The indexes on table ?1 of the current schema, as the engine's catalog has them, asked
	 * about column ?2 (parameters: table, column). One row each: (name, unique 0/1, predicate
	 * 0 none / 1 `deleted_at IS NULL` / 2 another, 1 if its one key column is ?2 else 0). */
	const char *index_list_sql;
	/* The columns of table ?1 of the current schema, one row each: (name, family, NOT NULL
	 * 0/1, has a default 0/1, the engine's name of its type, its text length or 0). The family is the dal_type the engine's type holds, 0 for
	 * none; where the engine only has affinities (SQLite), `family` maps each dal_type
	 * to the one its DDL type gets. */
	const char *column_list_sql;
	unsigned char family[DAL_TYPE_JSON + 1];  /* all 0: a dal_type's family is itself */
	bool ident_nocase;                        /* "Email" and "email" name the same column */
	/* Migrations (src/migrate/): a lock held by the migrating session across its
	 * transactions, and its release; NULL where each migration's write transaction
	 * is lock enough (one writer at a time). */
	const char *migrate_lock_sql;
	const char *migrate_unlock_sql;
	/* Bounds lock waits: %s is "LOCAL " (this transaction) or "" (the session, until
	 * RESET lock_timeout), %d milliseconds. NULL where the engine has no such bound. */
	const char *lock_timeout_sql;
	/* ALTER TABLE ... ALTER COLUMN c TYPE / SET NOT NULL / DROP NOT NULL exist; without them
	 * (SQLite) a schema diff rebuilds the table. */
	bool alter_column;
	/* Without alter_column: one integer, the tables other than ?1 whose foreign keys point
	 * at ?2 (the same name twice): a rebuild would drop their rows with it, or fail. And the
	 * statements, each ended by ";\n", that carry the table's id counter from the old table
	 * (%s) to the new one (_dal_new_%s), the name at every %s; NULL where none is kept apart. */
	const char *referenced_by_sql;
	const char *carry_ids_sql;

	/* Run first in dal_init_database's transaction, held to its end, where two processes
	 * creating the same tables at once would collide: PostgreSQL's IF NOT EXISTS does not
	 * see a table another open transaction created, and the second CREATE then fails on
	 * the catalog's unique index. NULL where the engine serializes them already. */
	const char *schema_lock_sql;
	/* One row, one integer: 1 if an index named ? exists in the current schema, else 0.
	 * dal_init_database then skips CREATE INDEX IF NOT EXISTS where that statement locks the
	 * table before looking at the name (PostgreSQL). NULL: the statement is always run. */
	const char *index_named_sql;
	/* A long IN list as one parameter: the SQL after the column, %s = the element's
	 * type (types[]), the parameter spelled as in_array_form. NULL: one parameter per value. */
	const char *in_array;
	dal_array_form in_array_form;
	/* One row, one integer: the rows the planner's statistics of table ? last counted,
	 * negative or no row if never. Set where a bulk write must refresh them (ANALYZE
	 * of the table's id, deleted_at and indexed columns) for the next reads to plan
	 * well; NULL where the engine keeps them as it writes, or plans well without. */
	const char *stats_rows_sql;
	/* Run before that ANALYZE, in its transaction: how many rows it samples. */
	const char *stats_sample_sql;
} dal_dialect;

struct dal_driver;
struct dal__stmt_cache;

/* The base of every engine connection. The manager owns the fields after `drv`. */
typedef struct dal_conn {
	const struct dal_driver *drv;
	bool broken;                      /* the driver saw the connection die: never reuse */
	bool in_tx;                       /* between begin and commit/rollback */
	int64_t born_us;
	int64_t returned_us;
	struct dal__stmt_cache *cache;    /* prepared statements by SQL text */
	struct dal_db *db;
	/* The pool's bookkeeping (src/pool.c), under the pool's lock. */
	unsigned generation;              /* the pool generation it was made or last checked in */
	int64_t taken_us;                 /* when it was lent; 0 when idle */
	const char *taken_file;           /* where it was lent (static storage) */
	int taken_line;
	bool leak_reported;
	struct dal_conn *lent_prev, *lent_next;
} dal_conn;

/* The base of every engine statement. */
typedef struct dal_stmt {
	dal_conn *conn;
	int nparams;       /* set by prepare */
	int ncols;         /* set by prepare, or by the first step where the engine only knows then */
	const char *sql;   /* the SQL text as prepared (borrowed from the cache) */
	bool busy;         /* handed out by the cache */
	bool cached;
	int64_t t0_us;     /* when the current execution started; 0 if none */
	uint64_t sql_hash; /* of the SQL text as the caller wrote it: the key of per-statement metrics */
	char *own_sql;     /* the text of a statement outside the cache (freed by conn.c) */
} dal_stmt;

typedef struct dal_driver {
	const char *scheme;        /* URL scheme */
	const char *name;          /* engine name */
	unsigned caps;
	const dal_dialect *dialect;

	/* State shared by the connections of one dal_db (DuckDB's database). Optional. */
	int (*db_open)(void **out, const dal_url *url, const dal_config *cfg);
	void (*db_close)(void *shared);

	int (*connect)(dal_conn **out, void *shared, const dal_url *url, const dal_config *cfg);
	void (*disconnect)(dal_conn *conn);
	int (*ping)(dal_conn *conn);
	/* A local check with no round trip, on an idle connection: true if the engine's
	 * socket shows something (an error, the end of the stream) and a ping is due. Optional. */
	bool (*maybe_dead)(dal_conn *conn);
	/* SQL without parameters or rows; may hold several statements. */
	int (*exec)(dal_conn *conn, const char *sql);

	/* `sql` uses the dialect's placeholder style. */
	int (*prepare)(dal_stmt **out, dal_conn *conn, const char *sql, unsigned flags);
	/* Bind all parameters at once (borrowed until the next reset). */
	int (*bind)(dal_stmt *stmt, const dal_value *params, size_t n);
	/* The first step executes. DAL__ROW, DAL__DONE or a DAL_E* code. */
	int (*step)(dal_stmt *stmt);
	const char *(*column_name)(dal_stmt *stmt, int col);
	/* The value is borrowed until the next step, reset or finalize. */
	int (*column)(dal_stmt *stmt, int col, dal_value *out);
	/* Rows changed by the last execution. */
	int64_t (*changes)(dal_stmt *stmt);
	/* Ready to bind and step again; drops unread rows. */
	int (*reset)(dal_stmt *stmt);
	void (*finalize)(dal_stmt *stmt);
	/* True if the prepared statement only reads (SELECT, EXPLAIN). Optional: NULL is "may write". */
	bool (*readonly)(dal_stmt *stmt);

	int (*begin)(dal_conn *conn, unsigned flags);
	/* Whether the transaction begun on conn is still open and usable: an engine may end
	 * (SQLite after some errors) or abort (PostgreSQL after a failed statement) it by
	 * itself. A local check, no round trip. Optional: NULL is "yes". */
	bool (*tx_open)(dal_conn *conn);
	int (*commit)(dal_conn *conn);   /* a loss while COMMIT is in flight: DAL_ECOMMIT_UNKNOWN */
	/* The statement bound of this connection from now on: ms > 0 that many, 0 none, < 0
	 * the configured statement_timeout_ms again. Optional: NULL where the engine has no
	 * such bound. */
	int (*set_statement_timeout)(dal_conn *conn, int ms);
	int (*rollback)(dal_conn *conn);
	/* NULL without DAL_CAP_SAVEPOINT; names are dal-made identifiers.
	 * rollback_to undoes and ends the savepoint (as ROLLBACK TO + RELEASE). */
	int (*savepoint)(dal_conn *conn, const char *name);
	int (*release)(dal_conn *conn, const char *name);
	int (*rollback_to)(dal_conn *conn, const char *name);

	/*
	 * The fast path for many rows (COPY, Appender); NULL: the generic path
	 * (a reused prepared INSERT). `values` is row-major, nrows * ncols.
	 * On failure *failed_row (may be NULL) is set to the row the engine
	 * rejected when it can tell (COPY's line), else left as it is.
	 */
	int (*bulk_insert)(dal_conn *conn, const char *table, const char *const *cols, size_t ncols,
	                   const dal_value *values, size_t nrows, size_t *failed_row);
	/*
	 * A long job of many short write transactions on one dal_db (the audit
	 * cleanup) says where it is: DAL__JOB_START before the first; DAL__JOB_BATCH
	 * inside each but the last, on `conn`, before it writes; DAL__JOB_PAUSE
	 * between two; DAL__JOB_END after the last. At a pause or the end, on `conn`
	 * outside any transaction (NULL when there is none to use), the engine lets
	 * in the writers waiting for the lock the job held, for a bounded time so
	 * that a stream of them cannot stop the job, and does now what the next
	 * writer's commit would otherwise pay for the job's changes (SQLite's
	 * checkpoint). At a batch it may make the commit not wait for the disk: the
	 * last one's commit makes them all durable. `shared` is the dal_db's
	 * (db_open). Optional: NULL where the engine queues waiters fairly itself.
	 */
	int (*write_job)(void *shared, dal_conn *conn, int step);
} dal_driver;

extern const dal_driver dal__driver_sqlite;
extern const dal_driver dal__driver_postgres;
extern const dal_driver dal__driver_duckdb;

/*
 * An engine message that quotes a value it could not take (a value may be a
 * secret): everything from the first quote to the last, of either kind, becomes
 * "..." in the first quote's kind; with one quote only, everything after it.
 */
void dal__driver_mask_quoted(char *msg, size_t size);

/*
 * Ids running out, reported one way on every engine: DAL_ECONSTRAINT (docs/errors.md), a
 * message naming the table (`table`, or the table of dal's sequence "<table>_id_seq"
 * quoted in `why`) and the engine's own words `why`. Returns DAL_ECONSTRAINT.
 */
int dal__driver_ids_used_up(const char *engine, const char *sqlstate, int engine_code, const char *table,
                            const char *why);

/* The driver for a URL scheme; DAL_EINVAL or DAL_EUNSUPPORTED (not built in). */
int dal__driver_find(const dal_driver **out, const char *scheme);

#endif
