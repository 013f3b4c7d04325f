import pytest
import transformers

from agnews_bert import AgNewsError, ID2LABEL, load_tokenizer

from agnews_bert.notebook import count_parameters

from agnews_bert.modeling import load_classifier as load_model


def _save_tiny_bert(folder, model_class, **config):
    tokenizer = load_tokenizer("smoke")
    bert_config = transformers.BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=128, **config,
    )
    model_class(bert_config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_smoke_model_has_the_four_named_classes():
    model = load_model("smoke")
    assert model.config.id2label == ID2LABEL
    assert model.config.label2id["Sci/Tech"] == 3
    assert isinstance(model, transformers.ModernBertForSequenceClassification)


def test_local_encoder_folder_gets_a_four_class_head(tmp_path):
    folder = _save_tiny_bert(tmp_path / "encoder", transformers.BertModel)
    model = load_model(str(folder))
    assert isinstance(model, transformers.BertForSequenceClassification)
    assert model.classifier.out_features == 4
    assert model.config.id2label[1] == "Sports"
    assert load_tokenizer(str(folder)).cls_token == "[CLS]"


def test_local_classifier_with_another_head_is_refitted(tmp_path):
    folder = _save_tiny_bert(tmp_path / "sentiment", transformers.BertForSequenceClassification, num_labels=2)
    assert load_model(str(folder)).classifier.out_features == 4


def test_missing_model_without_network_is_a_clear_error():
    with pytest.raises(AgNewsError, match="cannot load the model 'bert-base-uncased'"):
        load_model("bert-base-uncased")


def test_count_parameters_separates_embeddings():
    model = load_model("smoke")
    counts = count_parameters(model)
    embeddings = model.model.embeddings.tok_embeddings.weight.numel()
    assert counts["total_millions"] == round(sum(p.numel() for p in model.parameters()) / 1e6, 2)
    assert counts["total_millions"] - counts["non_embedding_millions"] == pytest.approx(embeddings / 1e6, abs=0.01)
