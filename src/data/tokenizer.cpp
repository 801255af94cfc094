#include "data/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include "tensor/rng.h"
#include "util/error.h"
#include "util/file_io.h"
#include "util/progress.h"

// Exported by libsentencepiece but missing from its public headers; without it the
// trainer logs its whole configuration and every merge round to stderr.
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace sentencepiece::logging

namespace sg {

Tokenizer::Tokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Tokenizer Tokenizer::from_bytes(std::string_view serialized, const std::string& source) {
  Tokenizer t;
  t.source_ = source;
  const auto status = t.sp_->LoadFromSerializedProto(serialized);
  SG_CHECK(status.ok(), source, ": not a sentencepiece model: ", status.ToString());
  // Shards and the loss rely on these ids; a model from elsewhere may differ.
  SG_CHECK(t.sp_->pad_id() == kPadId && t.sp_->eos_id() == kEosId && t.sp_->unk_id() == kUnkId,
           source, ": special ids are pad ", t.sp_->pad_id(), ", eos ", t.sp_->eos_id(), ", unk ",
           t.sp_->unk_id(), "; expected pad ", kPadId, ", eos ", kEosId, ", unk ", kUnkId,
           " (train it with 'sgatlin data prepare')");
  return t;
}

Tokenizer Tokenizer::load(const std::string& path) { return from_bytes(read_file(path), path); }

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  const auto status = sp_->Encode(text, &ids);
  SG_CHECK(status.ok(), source_, ": encode failed: ", status.ToString());
  return ids;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids) const {
  for (int32_t id : ids)
    SG_CHECK(id >= 0 && id < vocab_size(), source_, ": decode: token id ", id,
             " outside the vocabulary [0, ", vocab_size(), ")");
  std::string text;
  const auto status = sp_->Decode(ids, &text);
  SG_CHECK(status.ok(), source_, ": decode failed: ", status.ToString());
  return text;
}

std::string Tokenizer::piece(int32_t id) const {
  SG_CHECK(id >= 0 && id < vocab_size(), source_, ": token id ", id, " outside the vocabulary [0, ",
           vocab_size(), ")");
  return sp_->IdToPiece(id);
}

int64_t Tokenizer::vocab_size() const { return sp_->GetPieceSize(); }

namespace {

// Long lines are cut at spaces into pieces of at most kMaxLine bytes: sentencepiece
// splits on whitespace anyway, so the cut changes no statistics, while a longer
// sentence would be dropped by the trainer.
constexpr size_t kMaxLine = 8192;

void add_lines(std::string_view doc, std::vector<std::string_view>* out) {
  while (!doc.empty()) {
    const size_t eol = doc.find('\n');
    std::string_view line = trim(doc.substr(0, eol));
    doc = eol == std::string_view::npos ? std::string_view{} : doc.substr(eol + 1);
    while (line.size() > kMaxLine) {
      size_t cut = line.rfind(' ', kMaxLine);
      if (cut == std::string_view::npos || cut == 0) {  // no space: cut at a UTF-8 boundary
        cut = kMaxLine;
        while (cut > 0 && (static_cast<unsigned char>(line[cut]) >> 6) == 0x2) --cut;
      }
      out->push_back(line.substr(0, cut));
      line = trim(line.substr(cut));
    }
    if (!line.empty()) out->push_back(line);
  }
}

class LineIterator : public sentencepiece::SentenceIterator {
 public:
  explicit LineIterator(const std::vector<std::string_view>& lines) : lines_(lines) { load(); }
  bool done() const override { return i_ >= lines_.size(); }
  void Next() override {
    ++i_;
    load();
  }
  const std::string& value() const override { return value_; }
  sentencepiece::util::Status status() const override { return {}; }

 private:
  void load() {
    if (!done()) value_.assign(lines_[i_]);
  }
  const std::vector<std::string_view>& lines_;
  size_t i_ = 0;
  std::string value_;
};

}  // namespace

std::string train_tokenizer(const Documents& documents, const TokenizerTrainOptions& opt) {
  return train_tokenizer(std::vector<std::string_view>(documents.begin(), documents.end()), opt);
}

std::string train_tokenizer(const std::vector<std::string_view>& documents,
                            const TokenizerTrainOptions& opt) {
  SG_CHECK(opt.vocab_size > 0, "tokenizer: vocab size must be positive, got ", opt.vocab_size);
  std::vector<std::string_view> lines;
  for (const auto& d : documents) add_lines(d, &lines);
  SG_CHECK(!lines.empty(), "tokenizer: no text to train on");
  // Sample here rather than in sentencepiece, whose sampling seed is process-global.
  if (static_cast<int64_t>(lines.size()) > opt.max_sentences) {
    const double keep = static_cast<double>(opt.max_sentences) / static_cast<double>(lines.size());
    const RngKey key{opt.seed, stream_of("data.tokenizer_sample")};
    std::vector<std::string_view> sample;
    for (size_t i = 0; i < lines.size(); ++i)
      if (uniform01(key, i) < keep) sample.push_back(lines[i]);
    lines = std::move(sample);
  }
  // num_threads is fixed (not the machine's core count) because it is recorded in the
  // model file, and the file must not depend on where it was made.
  const std::string args =
      cat("--model_type=bpe --vocab_size=", opt.vocab_size, " --pad_id=", kPadId,
          " --eos_id=", kEosId, " --unk_id=", kUnkId,
          " --bos_id=-1 --byte_fallback=true --character_coverage=0.9995"
          " --input_sentence_size=0 --shuffle_input_sentence=false --max_sentence_length=",
          kMaxLine, " --num_threads=2 --minloglevel=2");
  Progress progress(
      cat("training tokenizer (BPE, vocab ", opt.vocab_size, ", ", lines.size(), " lines)"), 1);
  LineIterator it(lines);
  std::string model;
  const int old_level = sentencepiece::logging::GetMinLogLevel();
  sentencepiece::logging::SetMinLogLevel(2);  // errors come back in the status
  const auto status = sentencepiece::SentencePieceTrainer::Train(args, &it, &model);
  sentencepiece::logging::SetMinLogLevel(old_level);
  SG_CHECK(status.ok(), "tokenizer: sentencepiece training failed: ", status.ToString());
  progress.finish(cat(opt.vocab_size, " pieces"));
  return model;
}

}  // namespace sg
