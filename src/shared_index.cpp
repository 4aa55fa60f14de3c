/* The shared-dataset index (Python's shared_datasets / load_shared_dataset):
 * a TOML file, parsed with toml++ (header-only, C++17), behind the C
 * functions of secbench/shared.h. The library's only C++ file: toml++ is
 * built without exceptions (TOML_EXCEPTIONS=0), and every entry point catches
 * what the standard library may still throw (std::bad_alloc), so no C++
 * exception crosses into C. Its toml++ code is compiled with hidden
 * visibility: only the sb_* functions leave the shared library. */
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include <hdf5.h>
#include <mpi.h>

extern "C" {
#include "internal.h"
#include "shared_index.h"
}

#if !defined(TOML_EXCEPTIONS) || TOML_EXCEPTIONS
#error "shared_index.cpp must be built with TOML_EXCEPTIONS=0 (src/CMakeLists.txt)"
#endif
#include <toml++/toml.h>

/* This file is built with -fvisibility=hidden (toml++ stays inside). */
#define SB_CXX_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

/* Index and description files are bounded: a path pointing at /dev/zero or
 * at a huge file must not eat the memory of every rank. */
constexpr size_t max_file_bytes = size_t{64} << 20;

struct entry {
    std::string id, name, path, description_file, description;
    bool has_name = false, has_description_file = false, has_description = false;
};

/* A string from the file, fit for a message: quotes, backslashes and control
 * characters escaped (UTF-8 is left alone), cut at 120 bytes. */
std::string printable(std::string_view s)
{
    std::string out;
    for (unsigned char c : s) {
        if (out.size() >= 120) {
            out += "...";
            break;
        }
        if (c == '"' || c == '\\') {
            out += '\\';
            out += (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += (char)c;
        }
    }
    return out;
}

/* "an integer", "a table"... */
const char *type_name(const toml::node &n)
{
    switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "a value";
    }
}

/* "file:line:column" of a place in the index. */
std::string where(const char *index, const toml::source_region &r)
{
    char pos[48];
    std::snprintf(pos, sizeof pos, ":%u:%u", (unsigned)r.begin.line, (unsigned)r.begin.column);
    return std::string(index) + pos;
}

/* The whole file (at most max_file_bytes). 0, EFBIG, or the errno of the failure. */
int read_all(const char *path, std::string &text)
{
    std::FILE *f = std::fopen(path, "rbe");
    if (!f)
        return errno ? errno : EIO;
    char buf[1 << 16];
    size_t n;
    int err = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
        if (text.size() + n > max_file_bytes) {
            err = EFBIG;
            break;
        }
        text.append(buf, n);
    }
    if (!err && std::ferror(f))
        err = errno ? errno : EIO;
    std::fclose(f);
    return err;
}

const char *read_error(int err)
{
    return err == EFBIG ? "larger than 64 MiB" : std::strerror(err);
}

/* index_path, else $SECBENCH_STORAGE_DATASETS_INDEX (empty = unset), else NULL. */
const char *index_location(const char *index_path)
{
    if (index_path)
        return index_path;
    const char *env = std::getenv(SB_SHARED_INDEX_ENV);
    return env && *env ? env : nullptr;
}

int parse_index(const char *index, toml::parse_result &result)
{
    std::string text;
    int err = read_all(index, text);
    if (err == ENOENT)
        return sb__error(SB_ERR_NOT_FOUND, "shared dataset index %s: no such file", index);
    if (err)
        return sb__error(SB_ERR_IO, "cannot read the shared dataset index %s: %s", index,
                         read_error(err));
    result = toml::parse(text, std::string_view(index));
    if (!result) {
        const toml::parse_error &e = result.error();
        std::string_view what = e.description();
        return sb__error(SB_ERR_FORMAT, "%s: invalid TOML in the shared dataset index: %.*s",
                         where(index, e.source()).c_str(), (int)what.size(), what.data());
    }
    return 0;
}

/* The [datasets] table; NULL with SB_ERR_NOT_FOUND in *rc when there is none
 * (Python: shared_datasets raises KeyError, load_shared_dataset finds no ID). */
const toml::table *datasets_table(const char *index, const toml::table &root, int *rc)
{
    const toml::node *n = root.get("datasets");
    if (!n) {
        *rc = SB_ERR_NOT_FOUND;
        return nullptr;
    }
    const toml::table *t = n->as_table();
    if (!t)
        *rc = sb__error(SB_ERR_FORMAT, "%s: \"datasets\" is %s, not a table ([datasets.ID])",
                        where(index, n->source()).c_str(), type_name(*n));
    return t;
}

/* An optional string key of a dataset's table. */
int string_key(const char *index, const std::string &pid, const toml::table &t, const char *key,
               bool required, std::string &out, bool &present)
{
    const toml::node *n = t.get(key);
    present = n != nullptr;
    if (!n) {
        if (!required)
            return 0;
        return sb__error(SB_ERR_FORMAT, "%s: shared dataset \"%s\" has no \"%s\" key",
                         where(index, t.source()).c_str(), pid.c_str(), key);
    }
    const toml::value<std::string> *s = n->as_string();
    if (!s)
        return sb__error(SB_ERR_FORMAT, "%s: shared dataset \"%s\": \"%s\" is %s, not a string",
                         where(index, n->source()).c_str(), pid.c_str(), key, type_name(*n));
    out = s->get();
    if (out.find('\0') != std::string::npos)
        return sb__error(SB_ERR_FORMAT, "%s: shared dataset \"%s\": \"%s\" holds a NUL character",
                         where(index, n->source()).c_str(), pid.c_str(), key);
    if (required && out.empty())
        return sb__error(SB_ERR_FORMAT, "%s: shared dataset \"%s\": \"%s\" is empty",
                         where(index, n->source()).c_str(), pid.c_str(), key);
    return 0;
}

/* Python: Path(description_file) if absolute, else Path(index).parent / it. */
std::string description_path(const char *index, const std::string &file)
{
    if (!file.empty() && file[0] == '/')
        return file;
    std::string_view ix(index);
    size_t slash = ix.rfind('/');
    if (slash == std::string_view::npos)
        return file; /* the index is in the current directory */
    std::string_view dir = ix.substr(0, slash);
    while (!dir.empty() && dir.back() == '/')
        dir.remove_suffix(1);
    return std::string(dir) + "/" + file;
}

int load_description(const char *index, const std::string &pid, entry &e)
{
    std::string file = description_path(index, e.description_file), text;
    int err = read_all(file.c_str(), text);
    if (err)
        return sb__error(SB_ERR_IO, "shared dataset \"%s\" of %s: cannot read its description_file %s: %s",
                         pid.c_str(), index, file.c_str(), read_error(err));
    if (text.find('\0') != std::string::npos)
        return sb__error(SB_ERR_FORMAT,
                         "shared dataset \"%s\" of %s: its description_file %s holds a NUL byte "
                         "(not text)",
                         pid.c_str(), index, file.c_str());
    /* Python's read_text(): universal newlines. */
    e.description.reserve(text.size());
    for (size_t i = 0; i < text.size(); i++) {
        if (text[i] == '\r') {
            e.description += '\n';
            if (i + 1 < text.size() && text[i + 1] == '\n')
                i++;
        } else {
            e.description += text[i];
        }
    }
    e.has_description = true;
    return 0;
}

/* Check one [datasets.ID] and read what the caller gets of it. path_only:
 * only "path" matters (Python's load_shared_dataset looks at nothing else). */
int read_entry(const char *index, const toml::key &key, const toml::node &node,
               bool with_description, entry &e, bool path_only = false)
{
    e.id = key.str();
    std::string pid = printable(e.id);
    if (e.id.find('\0') != std::string::npos)
        return sb__error(SB_ERR_FORMAT, "%s: shared dataset \"%s\": its ID holds a NUL character",
                         where(index, key.source()).c_str(), pid.c_str());
    const toml::table *t = node.as_table();
    if (!t)
        return sb__error(SB_ERR_FORMAT,
                         "%s: shared dataset \"%s\" is %s, not a table (with a \"path\" key)",
                         where(index, node.source()).c_str(), pid.c_str(), type_name(node));
    bool present;
    int rc = string_key(index, pid, *t, "path", true, e.path, present);
    if (rc < 0 || path_only)
        return rc;
    if (rc == 0)
        rc = string_key(index, pid, *t, "name", false, e.name, e.has_name);
    if (rc == 0)
        rc = string_key(index, pid, *t, "description_file", false, e.description_file,
                        e.has_description_file);
    if (rc == 0 && with_description && e.has_description_file)
        rc = load_description(index, pid, e);
    return rc;
}

/* The entries as one malloc'd block: the array, then its strings. */
int to_block(const std::vector<entry> &entries, sb_shared_dataset **out)
{
    size_t total = entries.size() * sizeof(sb_shared_dataset);
    for (const entry &e : entries) {
        total += e.id.size() + 1 + e.path.size() + 1;
        total += e.has_name ? e.name.size() + 1 : 0;
        total += e.has_description_file ? e.description_file.size() + 1 : 0;
        total += e.has_description ? e.description.size() + 1 : 0;
    }
    void *block = std::malloc(total);
    if (!block)
        return sb__error(SB_ERR_NOMEM, "out of memory for %zu shared datasets", entries.size());
    sb_shared_dataset *list = static_cast<sb_shared_dataset *>(block);
    char *at = reinterpret_cast<char *>(list + entries.size());
    auto put = [&at](const std::string &s) {
        char *copy = at;
        std::memcpy(copy, s.data(), s.size());
        copy[s.size()] = '\0';
        at += s.size() + 1;
        return static_cast<const char *>(copy);
    };
    for (size_t i = 0; i < entries.size(); i++) {
        const entry &e = entries[i];
        list[i].id = put(e.id);
        list[i].name = e.has_name ? put(e.name) : nullptr;
        list[i].path = put(e.path);
        list[i].description_file = e.has_description_file ? put(e.description_file) : nullptr;
        list[i].description = e.has_description ? put(e.description) : nullptr;
    }
    *out = list;
    return 0;
}

int list_all(sb_shared_dataset **out, size_t *count, const char *index_path,
             bool load_description)
{
    if (index_path && !*index_path)
        return sb__error(SB_ERR_INVALID, "sb_shared_datasets: index_path is empty");
    const char *index = index_location(index_path);
    if (!index)
        return 0; /* Python: {} */
    toml::parse_result parsed;
    int rc = parse_index(index, parsed);
    if (rc < 0)
        return rc;
    const toml::table *datasets = datasets_table(index, parsed.table(), &rc);
    if (!datasets)
        return rc == SB_ERR_NOT_FOUND
                   ? sb__error(SB_ERR_NOT_FOUND,
                               "shared dataset index %s has no [datasets] table", index)
                   : rc;

    /* toml++ keeps a table sorted by key; Python's dict keeps the order of
     * the file, which is the order in which the keys first appear. */
    std::vector<std::pair<const toml::key *, const toml::node *>> order;
    for (auto &&[key, node] : *datasets)
        order.emplace_back(&key, &node);
    std::stable_sort(order.begin(), order.end(), [](const auto &a, const auto &b) {
        const toml::source_position &pa = a.first->source().begin, &pb = b.first->source().begin;
        return pa.line != pb.line ? pa.line < pb.line : pa.column < pb.column;
    });
    std::vector<entry> entries(order.size());
    for (size_t i = 0; i < order.size(); i++) {
        rc = read_entry(index, *order[i].first, *order[i].second, load_description, entries[i]);
        if (rc < 0)
            return rc;
    }
    if (entries.empty())
        return 0;
    rc = to_block(entries, out);
    if (rc == 0)
        *count = entries.size();
    return rc;
}

/* The entry of `id`; path_only as in read_entry. */
int find_entry(const char *id, const char *index_path, bool load_description, bool path_only,
               entry &e)
{
    if (!id)
        return sb__error(SB_ERR_INVALID, "shared dataset: the ID is NULL");
    std::string pid = printable(id);
    if (index_path && !*index_path)
        return sb__error(SB_ERR_INVALID, "shared dataset \"%s\": index_path is empty",
                         pid.c_str());
    const char *index = index_location(index_path);
    if (!index)
        return sb__error(SB_ERR_INVALID,
                         "shared dataset \"%s\": no shared dataset index: pass its path or set "
                         "the environment variable " SB_SHARED_INDEX_ENV,
                         pid.c_str());
    toml::parse_result parsed;
    int rc = parse_index(index, parsed);
    if (rc < 0)
        return rc;
    const toml::table *datasets = datasets_table(index, parsed.table(), &rc);
    if (!datasets)
        return rc == SB_ERR_NOT_FOUND
                   ? sb__error(SB_ERR_NOT_FOUND,
                               "shared dataset \"%s\" is not in the index %s (it has no "
                               "[datasets] table)",
                               pid.c_str(), index)
                   : rc;
    auto it = datasets->find(std::string_view(id));
    if (it == datasets->end())
        return sb__error(SB_ERR_NOT_FOUND,
                         "shared dataset \"%s\" is not in the index %s (secbench-db list "
                         "shows the IDs it has)",
                         pid.c_str(), index);
    return read_entry(index, it->first, it->second, load_description, e, path_only);
}

/* The C boundary: nothing thrown gets past it. */
template <typename F> int guarded(const char *what, F &&body) noexcept
{
    try {
        return body();
    } catch (const std::bad_alloc &) {
        return sb__error(SB_ERR_NOMEM, "%s: out of memory", what);
    } catch (const std::exception &e) {
        return sb__error(SB_ERR_IO, "%s: unexpected failure: %s", what, e.what());
    } catch (...) {
        return sb__error(SB_ERR_IO, "%s: unexpected failure", what);
    }
}

} // namespace

SB_CXX_EXPORT int sb_shared_datasets(sb_shared_dataset **out, size_t *count,
                                     const char *index_path, bool load_description)
{
    if (!out || !count)
        return sb__error(SB_ERR_INVALID, "sb_shared_datasets: %s is NULL", out ? "count" : "out");
    *out = nullptr;
    *count = 0;
    return guarded("sb_shared_datasets",
                   [&] { return list_all(out, count, index_path, load_description); });
}

SB_CXX_EXPORT int sb_shared_dataset_lookup(sb_shared_dataset **out, const char *id,
                                           const char *index_path, bool load_description)
{
    if (!out)
        return sb__error(SB_ERR_INVALID, "sb_shared_dataset_lookup: out is NULL");
    *out = nullptr;
    return guarded("sb_shared_dataset_lookup", [&] {
        std::vector<entry> one(1);
        int rc = find_entry(id, index_path, load_description, false, one[0]);
        return rc < 0 ? rc : to_block(one, out);
    });
}

extern "C" int sb__shared_store_path(char **path, const char *id, const char *index_path)
{
    *path = nullptr;
    return guarded("sb_store_open_shared", [&] {
        entry e;
        int rc = find_entry(id, index_path, false, true, e);
        if (rc < 0)
            return rc;
        *path = static_cast<char *>(std::malloc(e.path.size() + 1));
        if (!*path)
            return sb__error(SB_ERR_NOMEM, "out of memory");
        std::memcpy(*path, e.path.c_str(), e.path.size() + 1);
        return 0;
    });
}
