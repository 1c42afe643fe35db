package clients

import (
	"testing"
	"time"

	"github.com/cockroachdb/errors"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// gormAuthor and gormBook are related models: a book belongs to an author
// (a foreign key), authors are soft-deleted, and a book's title is
// indexed.
type gormAuthor struct {
	ID        uint `gorm:"primaryKey"`
	Name      string
	Email     string `gorm:"uniqueIndex;size:100"`
	Born      time.Time
	Books     []gormBook `gorm:"foreignKey:AuthorID"`
	CreatedAt time.Time
	UpdatedAt time.Time
	DeletedAt gorm.DeletedAt `gorm:"index"`
}

type gormBook struct {
	ID       uint   `gorm:"primaryKey"`
	Title    string `gorm:"index;not null"`
	Pages    int
	Price    float64
	AuthorID uint
	Author   gormAuthor
}

// TestGORM: GORM with its pgx-based postgres driver — AutoMigrate (which
// reads the catalog to find what exists), CRUD, a transaction that rolls
// back on error, Preload, soft delete, and the foreign key enforced.
func TestGORM(t *testing.T) {
	url := newDatabase(t, "gorm_smoke")
	db, err := gorm.Open(postgres.Open(url), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	defer sqlDB.Close()
	if err := db.AutoMigrate(&gormAuthor{}, &gormBook{}); err != nil {
		t.Fatalf("AutoMigrate: %v", err)
	}
	// A second AutoMigrate (an application's next start) reads the
	// catalog to compare every column, index and constraint.
	if err := db.AutoMigrate(&gormAuthor{}, &gormBook{}); err != nil {
		t.Fatalf("second AutoMigrate: %v", err)
	}
	if !db.Migrator().HasTable(&gormBook{}) || !db.Migrator().HasTable(&gormAuthor{}) {
		t.Fatal("AutoMigrate left out a table")
	}

	born := time.Date(1920, 1, 2, 0, 0, 0, 0, time.UTC)
	a := gormAuthor{Name: "Isaac", Email: "isaac@example.com", Born: born, Books: []gormBook{{Title: "Foundation", Pages: 255, Price: 9.5}, {Title: "I, Robot", Pages: 253, Price: 7.25}}}
	if err := db.Create(&a).Error; err != nil {
		t.Fatalf("Create: %v", err)
	}
	if a.ID == 0 || a.Books[0].ID == 0 || a.Books[1].AuthorID != a.ID {
		t.Fatalf("Create did not fill ids: %+v", a)
	}

	// Read with Preload.
	var got gormAuthor
	if err := db.Preload("Books", func(db *gorm.DB) *gorm.DB { return db.Order("title") }).First(&got, a.ID).Error; err != nil {
		t.Fatalf("Preload: %v", err)
	}
	if got.Name != "Isaac" || !got.Born.Equal(born) || len(got.Books) != 2 || got.Books[0].Title != "Foundation" || got.Books[1].Price != 7.25 {
		t.Fatalf("read back %+v", got)
	}
	var b gormBook
	if err := db.Preload("Author").Where("title = ?", "I, Robot").First(&b).Error; err != nil || b.Author.Email != "isaac@example.com" || b.Pages != 253 {
		t.Fatalf("book with author: %+v, %v", b, err)
	}

	// Update.
	if err := db.Model(&gormBook{}).Where("author_id = ?", a.ID).Update("price", gorm.Expr("price * 2")).Error; err != nil {
		t.Fatal(err)
	}
	var total float64
	if err := db.Model(&gormBook{}).Select("sum(price)").Scan(&total).Error; err != nil || total != 33.5 {
		t.Fatalf("sum after update: %v, %v", total, err)
	}

	// A transaction that fails rolls back all of its writes.
	err = db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&gormBook{Title: "The End of Eternity", AuthorID: a.ID}).Error; err != nil {
			return err
		}
		return tx.Create(&gormBook{Title: "Orphan", AuthorID: a.ID + 1000}).Error
	})
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "23503" {
		t.Fatalf("book of a missing author: %v, want SQLSTATE 23503", err)
	}
	var n int64
	if err := db.Model(&gormBook{}).Count(&n).Error; err != nil || n != 2 {
		t.Fatalf("books after the rolled-back transaction: %d, %v", n, err)
	}
	// A transaction that succeeds commits.
	if err := db.Transaction(func(tx *gorm.DB) error {
		return tx.Create(&gormAuthor{Name: "Ursula", Email: "ursula@example.com", Born: born}).Error
	}); err != nil {
		t.Fatal(err)
	}

	// A unique index violation.
	err = db.Create(&gormAuthor{Name: "Copy", Email: "isaac@example.com"}).Error
	if !errors.As(err, &pgErr) || pgErr.Code != "23505" {
		t.Fatalf("duplicate email: %v, want SQLSTATE 23505", err)
	}

	// Soft delete: the row stays, with deleted_at set, and is hidden.
	if err := db.Where("email = ?", "ursula@example.com").Delete(&gormAuthor{}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Model(&gormAuthor{}).Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("authors after soft delete: %d, %v", n, err)
	}
	if err := db.Unscoped().Model(&gormAuthor{}).Where("deleted_at IS NOT NULL").Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("soft-deleted authors: %d, %v", n, err)
	}
	// Delete for good.
	if err := db.Where("author_id = ?", a.ID).Delete(&gormBook{}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Unscoped().Delete(&gormAuthor{}, a.ID).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Unscoped().Model(&gormAuthor{}).Count(&n).Error; err != nil || n != 1 {
		t.Fatalf("authors left: %d, %v", n, err)
	}
}
