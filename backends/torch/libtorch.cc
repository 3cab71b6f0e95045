// SPDX-License-Identifier: Apache-2.0
// Everything of the torch plugin that speaks libtorch: the model cache,
// tensor conversion, forward, sgemm. The product's only C++ file; each
// extern "C" entry point runs its body under _guard(), which turns every
// exception into -errno plus a log line with libtorch's message.
#include "libtorch.h"

#include <ATen/Parallel.h>
#include <torch/script.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

namespace {

// Dims per tensor we accept; libtorch itself has no small limit, and no
// model in practice needs more.
constexpr int64_t kMaxDims = 32;

// Cache of loaded modules by (session id, resource id). A Module is a
// reference-counted handle: a run copies it out under the lock, so a
// concurrent forget never frees a module in use.
std::mutex cache_lock;
std::map<std::pair<int64_t, int64_t>, torch::jit::Module> cache;

template <class Body>
int _guard(const char *what, int einval_for_torch_errors, Body &&body)
{
	try {
		return body();
	} catch (const c10::Error &e) {
		vaccel_error("[torch] %s: %s", what,
			     e.what_without_backtrace());
		return einval_for_torch_errors;
	} catch (const std::bad_alloc &) {
		vaccel_error("[torch] %s: out of memory", what);
		return -ENOMEM;
	} catch (const std::exception &e) {
		vaccel_error("[torch] %s: %s", what, e.what());
		return einval_for_torch_errors;
	} catch (...) {
		vaccel_error("[torch] %s: unknown C++ exception", what);
		return -EIO;
	}
}

// t is an int: the field comes from C (or a guest), where any value can be
// stored, and loading an out-of-range value as a C++ enum is undefined.
bool _scalar_type(int t, c10::ScalarType *out)
{
	switch (t) {
	case VACCEL_TORCH_BYTE: *out = at::kByte; return true;
	case VACCEL_TORCH_CHAR: *out = at::kChar; return true;
	case VACCEL_TORCH_SHORT: *out = at::kShort; return true;
	case VACCEL_TORCH_INT: *out = at::kInt; return true;
	case VACCEL_TORCH_LONG: *out = at::kLong; return true;
	case VACCEL_TORCH_HALF: *out = at::kHalf; return true;
	case VACCEL_TORCH_FLOAT: *out = at::kFloat; return true;
	}
	return false;
}

bool _vaccel_type(c10::ScalarType s, enum vaccel_torch_data_type *out)
{
	switch (s) {
	case at::kByte: *out = VACCEL_TORCH_BYTE; return true;
	case at::kChar: *out = VACCEL_TORCH_CHAR; return true;
	case at::kShort: *out = VACCEL_TORCH_SHORT; return true;
	case at::kInt: *out = VACCEL_TORCH_INT; return true;
	case at::kLong: *out = VACCEL_TORCH_LONG; return true;
	case at::kHalf: *out = VACCEL_TORCH_HALF; return true;
	case at::kFloat: *out = VACCEL_TORCH_FLOAT; return true;
	default: return false;
	}
}

// A tensor over t's data: a view (copy == false) or a private copy. The
// description must be consistent: known dtype, 0 <= nr_dims <= kMaxDims,
// dims >= 0, and the product of dims times the element size, computed
// without overflow, equal to t->size.
// On the agent t->data lies in a guest's shared pool, which the guest may
// rewrite at any time. A model's operators may read an input twice and trust
// the first read (bincount sizes its output from max(x), then indexes it with
// x): model runs take a private copy, so only plain reads (sgemm) use a view.
int _wrap(const struct vaccel_torch_tensor *t, int i, at::Tensor *out,
	  bool copy)
{
	c10::ScalarType st;
	int dtype;
	if (!t) {
		vaccel_error("[torch] input %d is NULL", i);
		return -EINVAL;
	}
	static_assert(sizeof(t->data_type) == sizeof(dtype), "C enum is int");
	memcpy(&dtype, &t->data_type, sizeof(dtype));
	if (!_scalar_type(dtype, &st)) {
		vaccel_error("[torch] input %d: unknown data type %d", i,
			     dtype);
		return -EINVAL;
	}
	if (t->nr_dims < 0 || t->nr_dims > kMaxDims ||
	    (t->nr_dims > 0 && !t->dims)) {
		vaccel_error("[torch] input %d: bad nr_dims %lld", i,
			     (long long)t->nr_dims);
		return -EINVAL;
	}
	uint64_t bytes = c10::elementSize(st);
	for (int64_t d = 0; d < t->nr_dims; d++) {
		if (t->dims[d] < 0 ||
		    __builtin_mul_overflow(bytes, (uint64_t)t->dims[d],
					   &bytes)) {
			vaccel_error("[torch] input %d: bad dim %lld = %lld", i,
				     (long long)d, (long long)t->dims[d]);
			return -EINVAL;
		}
	}
	if (bytes != t->size || (bytes && !t->data)) {
		vaccel_error("[torch] input %d: %zu bytes of data (%s) for "
			     "dims that need %llu",
			     i, t->size, t->data ? "given" : "NULL",
			     (unsigned long long)bytes);
		return -EINVAL;
	}
	std::vector<int64_t> dims(t->dims, t->dims + t->nr_dims);
	auto opts = at::TensorOptions().dtype(st);
	if (!bytes)
		*out = torch::empty(dims, opts);
	else if (copy)
		*out = torch::from_blob(t->data, dims, opts).clone();
	else
		*out = torch::from_blob(t->data, dims, opts);
	return 0;
}

// A new vaccel tensor holding a copy of r (made contiguous). A 0-dim
// result becomes dims {1}: vaccel tensors have at least one dim.
int _unwrap(const at::Tensor &r, int i, struct vaccel_torch_tensor **out)
{
	enum vaccel_torch_data_type vt;
	if (!_vaccel_type(r.scalar_type(), &vt)) {
		vaccel_error("[torch] output %d has dtype %s, which vAccel "
			     "tensors cannot carry",
			     i, c10::toString(r.scalar_type()));
		return -EINVAL;
	}
	at::Tensor c = r.contiguous();
	std::vector<int64_t> dims(c.sizes().begin(), c.sizes().end());
	if (dims.empty())
		dims.push_back(1);
	struct vaccel_torch_tensor *t = nullptr;
	int ret = vaccel_torch_tensor_new(&t, (int64_t)dims.size(),
					  dims.data(), vt);
	if (ret)
		return -ret;
	size_t bytes = c.nbytes();
	if (bytes) {
		t->data = malloc(bytes);
		if (!t->data) {
			vaccel_torch_tensor_delete(t);
			return -ENOMEM;
		}
		memcpy(t->data, c.data_ptr(), bytes);
		t->size = bytes;
		t->owned = true;
	}
	*out = t;
	return 0;
}

// The model's TorchScript: its file when it has one, else its bytes.
torch::jit::Module _load(struct vaccel_resource *model, int *err)
{
	const char *path = nullptr;
	const uint8_t *data = nullptr;
	size_t size = 0;
	if (model->nr_blobs > 0 && model->blobs && model->blobs[0]) {
		path = model->blobs[0]->path;
		data = model->blobs[0]->data;
		size = model->blobs[0]->size;
	}
	if (!path && model->nr_paths > 0 && model->paths)
		path = model->paths[0];
	torch::jit::Module m;
	if (path) {
		if (access(path, R_OK)) {
			*err = -errno;
			vaccel_error("[torch] model %lld: %s: %s",
				     (long long)model->id, path,
				     strerror(errno));
			return m;
		}
		m = torch::jit::load(path, c10::kCPU);
	} else if (data && size) {
		std::istringstream in(
			std::string(reinterpret_cast<const char *>(data), size));
		m = torch::jit::load(in, c10::kCPU);
	} else {
		vaccel_error("[torch] model %lld has no file and no bytes",
			     (long long)model->id);
		*err = -EINVAL;
		return m;
	}
	m.eval();
	*err = 0;
	return m;
}

// The cached module of (sess, model), loading it on first use.
int _module(struct vaccel_session *sess, struct vaccel_resource *model,
	    torch::jit::Module *out)
{
	auto key = std::make_pair((int64_t)sess->id, (int64_t)model->id);
	{
		std::lock_guard<std::mutex> g(cache_lock);
		auto it = cache.find(key);
		if (it != cache.end()) {
			*out = it->second;
			return 0;
		}
	}
	int err = 0;
	torch::jit::Module m = _load(model, &err); // slow: outside the lock
	if (err)
		return err;
	vaccel_debug("[torch] session:%lld loaded model %lld",
		     (long long)sess->id, (long long)model->id);
	std::lock_guard<std::mutex> g(cache_lock);
	*out = cache.emplace(key, std::move(m)).first->second;
	return 0;
}

// The result of forward() as a list of tensors: a tensor, or a tuple or
// list of tensors.
int _results(const c10::IValue &v, std::vector<at::Tensor> *out)
{
	if (v.isTensor()) {
		out->push_back(v.toTensor());
		return 0;
	}
	std::vector<c10::IValue> items;
	if (v.isTuple())
		items = v.toTupleRef().elements().vec();
	else if (v.isList())
		items = v.toListRef().vec();
	else {
		vaccel_error("[torch] forward returned a %s, not tensors",
			     v.tagKind().c_str());
		return -EINVAL;
	}
	for (const auto &item : items) {
		if (!item.isTensor()) {
			vaccel_error("[torch] forward returned a %s among its "
				     "results, not a tensor",
				     item.tagKind().c_str());
			return -EINVAL;
		}
		out->push_back(item.toTensor());
	}
	return 0;
}

void _delete_all(struct vaccel_torch_tensor **outputs, int n)
{
	for (int i = 0; i < n; i++) {
		if (outputs[i])
			vaccel_torch_tensor_delete(outputs[i]);
		outputs[i] = nullptr;
	}
}

} // namespace

extern "C" int ltorch_set_threads(int n)
{
	if (n < 1)
		return -EINVAL;
	return _guard("set_num_threads", -EINVAL, [&] {
		at::set_num_threads(n);
		return 0;
	});
}

extern "C" int ltorch_threads(void)
{
	return _guard("get_num_threads", -EINVAL,
		      [] { return at::get_num_threads(); });
}

extern "C" int ltorch_model_load(struct vaccel_session *sess,
				 struct vaccel_resource *model)
{
	return _guard("model load", -EINVAL, [&] {
		torch::jit::Module m;
		return _module(sess, model, &m);
	});
}

extern "C" int ltorch_model_run(struct vaccel_session *sess,
				struct vaccel_resource *model,
				struct vaccel_torch_tensor *const *inputs,
				int nr_inputs,
				struct vaccel_torch_tensor **outputs,
				int nr_outputs)
{
	if (nr_inputs < 0 || nr_outputs < 0 || (nr_inputs && !inputs) ||
	    (nr_outputs && !outputs)) {
		vaccel_error("[torch] model run: bad tensor arrays (%d in, "
			     "%d out)",
			     nr_inputs, nr_outputs);
		return -EINVAL;
	}
	for (int i = 0; i < nr_outputs; i++)
		outputs[i] = nullptr;
	int ret = _guard("model run", -EINVAL, [&] {
		std::vector<c10::IValue> args;
		for (int i = 0; i < nr_inputs; i++) {
			at::Tensor t;
			int r = _wrap(inputs[i], i, &t, true);
			if (r)
				return r;
			args.emplace_back(std::move(t));
		}
		torch::jit::Module m;
		int r = _module(sess, model, &m);
		if (r)
			return r;
		std::vector<at::Tensor> results;
		{
			c10::InferenceMode guard;
			r = _results(m.forward(std::move(args)), &results);
		}
		if (r)
			return r;
		if ((int64_t)results.size() < nr_outputs) {
			vaccel_error("[torch] model %lld returned %zu tensors, "
				     "%d asked for",
				     (long long)model->id, results.size(),
				     nr_outputs);
			return -EINVAL;
		}
		for (int i = 0; i < nr_outputs; i++) {
			r = _unwrap(results[i], i, &outputs[i]);
			if (r)
				return r;
		}
		return 0;
	});
	if (ret)
		_delete_all(outputs, nr_outputs);
	return ret;
}

extern "C" int ltorch_sgemm(const struct vaccel_torch_tensor *a,
			    const struct vaccel_torch_tensor *b,
			    const struct vaccel_torch_tensor *c, int m, int n,
			    int k, struct vaccel_torch_tensor **out)
{
	if (!out || m < 0 || n < 0 || k < 0) {
		vaccel_error("[torch] sgemm: bad arguments m %d n %d k %d", m,
			     n, k);
		return -EINVAL;
	}
	*out = nullptr;
	return _guard("sgemm", -EINVAL, [&] {
		const struct vaccel_torch_tensor *in[3] = { a, b, c };
		const int64_t rows[3] = { m, k, m }, cols[3] = { k, n, n };
		at::Tensor t[3];
		for (int i = 0; i < 3; i++) {
			int r = _wrap(in[i], i, &t[i], false);
			if (r)
				return r;
			if (t[i].scalar_type() != at::kFloat ||
			    t[i].numel() != rows[i] * cols[i]) {
				vaccel_error("[torch] sgemm: operand %d is not "
					     "%lld x %lld floats",
					     i, (long long)rows[i],
					     (long long)cols[i]);
				return -EINVAL;
			}
			t[i] = t[i].view({ rows[i], cols[i] });
		}
		c10::InferenceMode guard;
		return _unwrap(at::addmm(t[2], t[0], t[1]), 0, out);
	});
}

extern "C" int ltorch_top1(struct vaccel_session *sess,
			   struct vaccel_resource *model, const float *chw,
			   int64_t ch, int64_t h, int64_t w, int64_t *top1)
{
	return _guard("classify", -EINVAL, [&] {
		torch::jit::Module m;
		int r = _module(sess, model, &m);
		if (r)
			return r;
		at::Tensor x = torch::from_blob(const_cast<float *>(chw),
						{ 1, ch, h, w }, at::kFloat);
		c10::InferenceMode guard;
		at::Tensor y = m.forward({ x }).toTensor();
		if (y.numel() < 1) {
			vaccel_error("[torch] classify: the model returned "
				     "an empty tensor");
			return -EINVAL;
		}
		*top1 = y.flatten().argmax().item<int64_t>();
		return 0;
	});
}

extern "C" void ltorch_forget(int64_t sess_id, int64_t res_id)
{
	// Modules are destroyed after the lock is dropped (their destructors
	// may take a while and never need the cache).
	std::vector<torch::jit::Module> dead;
	_guard("forget", -EINVAL, [&] {
		std::lock_guard<std::mutex> g(cache_lock);
		for (auto it = cache.begin(); it != cache.end();) {
			bool match = sess_id < 0 ||
				     (it->first.first == sess_id &&
				      (res_id < 0 || it->first.second == res_id));
			if (match) {
				dead.push_back(std::move(it->second));
				it = cache.erase(it);
			} else {
				++it;
			}
		}
		return 0;
	});
}
