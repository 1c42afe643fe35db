// JDBC smoke program (PgJDBC, Debian's libpostgresql-jdbc-java): run by
// TestJDBC with `java -cp postgresql.jar JdbcSmoke.java URL`. Prepared
// statements with typed parameters, a batch, a transaction,
// DatabaseMetaData.getTables/getColumns/getPrimaryKeys, and an error's SQLSTATE.
import java.math.BigDecimal;
import java.sql.*;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.*;

public class JdbcSmoke {
    static void check(Object got, Object want, String what) {
        if (!Objects.equals(got, want)) {
            throw new AssertionError(what + ": got " + got + ", want " + want);
        }
    }

    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0])) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE staff (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, salary NUMERIC(10,2), hired DATE, "
                        + "updated TIMESTAMPTZ, active BOOLEAN DEFAULT true, photo BYTEA, rating DOUBLE PRECISION, badge BIGINT)");
            }
            OffsetDateTime updated = OffsetDateTime.of(2024, 3, 4, 5, 6, 7, 890000000, ZoneOffset.UTC);
            try (PreparedStatement p = c.prepareStatement(
                    "INSERT INTO staff (id, name, salary, hired, updated, photo, rating, badge) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
                p.setInt(1, 1);
                p.setString(2, "Ada");
                p.setBigDecimal(3, new BigDecimal("1234.50"));
                p.setObject(4, LocalDate.of(2020, 2, 29));
                p.setObject(5, updated);
                p.setBytes(6, new byte[] {0, 1, (byte) 0xff});
                p.setDouble(7, 4.75);
                p.setLong(8, 9007199254740993L);
                check(p.executeUpdate(), 1, "insert count");
            }

            // A batch of inserts, then a transaction that rolls back.
            try (PreparedStatement p = c.prepareStatement("INSERT INTO staff (id, name) VALUES (?, ?)")) {
                for (int i = 2; i <= 4; i++) {
                    p.setInt(1, i);
                    p.setString(2, "n" + i);
                    p.addBatch();
                }
                check(Arrays.toString(p.executeBatch()), "[1, 1, 1]", "batch counts");
            }
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("DELETE FROM staff WHERE id > 1");
            }
            c.rollback();
            c.setAutoCommit(true);

            try (PreparedStatement p = c.prepareStatement("SELECT name, salary, hired, updated, active, photo, rating, badge FROM staff WHERE id = ?")) {
                p.setInt(1, 1);
                try (ResultSet r = p.executeQuery()) {
                    check(r.next(), true, "row");
                    check(r.getString(1), "Ada", "varchar");
                    check(r.getBigDecimal(2), new BigDecimal("1234.50"), "numeric");
                    check(r.getObject(3, LocalDate.class), LocalDate.of(2020, 2, 29), "date");
                    check(r.getObject(4, OffsetDateTime.class).toInstant(), updated.toInstant(), "timestamptz");
                    check(r.getBoolean(5), true, "boolean default");
                    check(Arrays.toString(r.getBytes(6)), "[0, 1, -1]", "bytea");
                    check(r.getDouble(7), 4.75, "float8");
                    check(r.getLong(8), 9007199254740993L, "bigint");
                    ResultSetMetaData md = r.getMetaData();
                    check(md.getColumnTypeName(2), "numeric", "column type name");
                    check(md.getColumnType(8), Types.BIGINT, "column type");
                }
            }
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT count(*) FROM staff")) {
                r.next();
                check(r.getLong(1), 4L, "count after rollback");
            }

            // DatabaseMetaData: what tools and ORMs read to find tables and columns.
            DatabaseMetaData meta = c.getMetaData();
            check(meta.getDatabaseProductName(), "PostgreSQL", "product name");
            List<String> tables = new ArrayList<>();
            try (ResultSet r = meta.getTables(null, "public", "%", new String[] {"TABLE"})) {
                while (r.next()) {
                    tables.add(r.getString("TABLE_SCHEM") + "." + r.getString("TABLE_NAME") + ":" + r.getString("TABLE_TYPE"));
                }
            }
            check(tables.toString(), "[public.staff:TABLE]", "getTables");
            List<String> cols = new ArrayList<>();
            try (ResultSet r = meta.getColumns(null, "public", "staff", "%")) {
                while (r.next()) {
                    cols.add(r.getString("COLUMN_NAME") + " " + r.getString("TYPE_NAME") + " " + r.getInt("DATA_TYPE") + " "
                            + r.getInt("COLUMN_SIZE") + " " + r.getString("IS_NULLABLE") + " " + r.getInt("ORDINAL_POSITION"));
                }
            }
            check(String.join(", ", cols),
                    "id int4 4 10 NO 1, name varchar 12 50 NO 2, salary numeric 2 10 YES 3, hired date 91 13 YES 4, "
                            + "updated timestamptz 93 35 YES 5, active bool -7 1 YES 6, photo bytea -2 2147483647 YES 7, "
                            + "rating float8 8 17 YES 8, badge int8 -5 19 YES 9",
                    "getColumns");
            // getPrimaryKeys: its query expands pg_index.indkey with
            // information_schema._pg_expandarray in the select list. A key
            // whose columns are not in table order shows KEY_SEQ's use.
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE assignment (project TEXT, staff_id INT REFERENCES staff, hours INT, PRIMARY KEY (staff_id, project))");
            }
            List<String> pk = new ArrayList<>();
            try (ResultSet r = meta.getPrimaryKeys(null, "public", "assignment")) {
                while (r.next()) {
                    pk.add(r.getString("COLUMN_NAME") + " " + r.getInt("KEY_SEQ") + " " + r.getString("PK_NAME"));
                }
            }
            check(String.join(", ", pk), "staff_id 1 assignment_pkey, project 2 assignment_pkey", "getPrimaryKeys");
            // Deliberate errors: a duplicate key and a syntax error.
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO staff (id, name) VALUES (1, 'again')");
                throw new AssertionError("duplicate key accepted");
            } catch (SQLException e) {
                check(e.getSQLState(), "23505", "duplicate key SQLSTATE");
            }
            try (Statement s = c.createStatement()) {
                s.executeQuery("SELEC 1");
                throw new AssertionError("syntax error accepted");
            } catch (SQLException e) {
                check(e.getSQLState(), "42601", "syntax error SQLSTATE");
            }
        }
        System.out.println("jdbc smoke ok");
    }
}
