// Reads through a null pointer plus a field offset: SIGSEGV in the null page.
struct Record {
  long id;
  long payload[8];
};

__attribute__((noinline)) long read_payload(const Record* record) { return record->payload[3]; }

int main() {
  volatile Record* nothing = nullptr;
  return static_cast<int>(read_payload(const_cast<Record*>(nothing)));
}
