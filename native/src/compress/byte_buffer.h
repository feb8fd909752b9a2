// A growable byte buffer without zero-initialisation (std::vector<uint8_t>::resize would memset
// every byte a codec is about to overwrite anyway), whose storage can be released to a new owner:
// the N-API layer hands it to a JS Buffer without a copy and frees it with std::free.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace brook::compress {

class ByteBuffer {
 public:
  ByteBuffer() = default;
  explicit ByteBuffer(size_t capacity) { Reserve(capacity); }
  ByteBuffer(const ByteBuffer&) = delete;
  ByteBuffer& operator=(const ByteBuffer&) = delete;
  ByteBuffer(ByteBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  ByteBuffer& operator=(ByteBuffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }
  ~ByteBuffer() { std::free(data_); }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  uint8_t* end() { return data_ + size_; }

  // Ensures capacity() >= n. Throws std::bad_alloc.
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    void* p = std::realloc(data_, n == 0 ? 1 : n);
    if (p == nullptr) throw std::bad_alloc();
    data_ = static_cast<uint8_t*>(p);
    capacity_ = n;
  }
  // Sets the size; bytes beyond the old size are uninitialised.
  void Resize(size_t n) {
    Reserve(n);
    size_ = n;
  }
  void Append(const void* p, size_t n) {
    Reserve(size_ + n);
    if (n != 0) std::memcpy(data_ + size_, p, n);
    size_ += n;
  }
  void PushBack(uint8_t b) {
    if (size_ == capacity_) Reserve(capacity_ < 64 ? 64 : capacity_ * 2);
    data_[size_++] = b;
  }
  // Returns unused capacity to the allocator when it is a sizeable share (codecs reserve a worst
  // case bound before compressing).
  void ShrinkToFit() {
    if (capacity_ - size_ > 4096 && capacity_ - size_ > size_ / 8) {
      void* p = std::realloc(data_, size_ == 0 ? 1 : size_);
      if (p != nullptr) {
        data_ = static_cast<uint8_t*>(p);
        capacity_ = size_ == 0 ? 1 : size_;
      }
    }
  }
  // Gives up ownership: the caller frees the result with std::free.
  uint8_t* Release() {
    size_ = capacity_ = 0;
    return std::exchange(data_, nullptr);
  }

 private:
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace brook::compress
